"""Health endpoints, handled before the structure is looked up."""

import pytest
from django.test import Client

from tests.src.database import database_on_closed_port

POD_IP = "10.42.3.17"


def test_liveness_answers_on_any_host_without_database():
    # No ``db`` fixture: pytest-django makes any query fail, so a 200 means none was made.
    response = Client(HTTP_HOST=POD_IP).get("/sante/vivant/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_liveness_answers_on_structure_host():
    response = Client(HTTP_HOST="alpha.localhost").get("/sante/vivant/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_readiness_answers_when_database_answers():
    response = Client(HTTP_HOST=POD_IP).get("/sante/pret/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_fails_when_database_is_unreachable(django_db_blocker):
    with django_db_blocker.unblock(), database_on_closed_port():
        response = Client(HTTP_HOST=POD_IP).get("/sante/pret/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert response["Cache-Control"] == "no-store"


def test_readiness_recovers_when_database_is_back(django_db_blocker):
    with django_db_blocker.unblock():
        with database_on_closed_port():
            Client(HTTP_HOST=POD_IP).get("/sante/pret/")
        response = Client(HTTP_HOST=POD_IP).get("/sante/pret/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_pod_ip_is_still_rejected_on_other_pages():
    response = Client(HTTP_HOST=POD_IP).get("/connexion/")

    assert response.status_code == 404


@pytest.mark.django_db
def test_only_exact_health_paths_skip_host_check():
    response = Client(HTTP_HOST=POD_IP).get("/sante/vivant/autre/")

    assert response.status_code == 404
