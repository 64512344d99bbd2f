from django.test import Client

from tests.helpers import page_text


def test_unknown_host_gets_french_404(db):
    response = Client(HTTP_HOST="inconnue.localhost").get("/")

    assert response.status_code == 404
    assert "Aucun espace Suivi Social ne correspond" in page_text(response)


def test_host_outside_allowed_hosts_gets_404(db):
    response = Client(HTTP_HOST="example.org").get("/")

    assert response.status_code == 404


def test_structure_url_on_public_host_is_404(db):
    response = Client(HTTP_HOST="localhost").get("/beneficiaires/")

    assert response.status_code == 404
    assert "Page introuvable" in page_text(response)


def test_public_url_on_structure_host_is_404(alpha):
    response = alpha.client("manager").get("/console/")

    assert response.status_code == 404


def test_public_callback_relay_is_not_served_on_structure_host(alpha):
    response = alpha.client().get("/oidc/callback/?state=alpha~x&code=y")

    assert response.status_code == 404


def test_structure_home_requires_sign_in(alpha):
    response = alpha.client().get("/beneficiaires/")

    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_suspended_structure_serves_nothing(alpha):
    alpha.structure.status = "suspended"
    alpha.structure.save()

    response = alpha.client("manager").get("/beneficiaires/")

    assert response.status_code == 403
    assert "Cet espace est suspendu" in page_text(response)


def test_host_is_case_insensitive(alpha):
    response = Client(HTTP_HOST="ALPHA.localhost").get("/connexion/")

    assert response.status_code == 200


def test_www_prefix_does_not_reach_public_site(db):
    response = Client(HTTP_HOST="www.localhost").get("/console/")

    assert response.status_code == 404
