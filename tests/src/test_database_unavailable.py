"""Requests while PostgreSQL is unreachable get a French 503, and the service recovers alone."""

import psycopg
from django.conf import settings
from django.db import close_old_connections, connection
from django.test import Client

from tests.src.database import database_on_closed_port

UNAVAILABLE = "Le service est momentanément indisponible"


def _client(host: str) -> Client:
    client = Client(HTTP_HOST=host)
    # Render the error as a server would, rather than raising it into the test.
    client.raise_request_exception = False
    return client


def test_structure_page_returns_french_503(django_db_blocker):
    with django_db_blocker.unblock(), database_on_closed_port():
        response = _client("alpha.localhost").get("/connexion/")

    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()
    assert response["Retry-After"] == "30"
    assert "Traceback" not in response.content.decode()


def test_public_page_returns_french_503(django_db_blocker):
    client = _client("localhost")
    # A session cookie makes the page read the session table.
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32

    with django_db_blocker.unblock(), database_on_closed_port():
        response = client.get("/console/")

    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()


def test_api_returns_french_json_503(django_db_blocker):
    with django_db_blocker.unblock(), database_on_closed_port():
        response = _client("alpha.localhost").get("/api/beneficiaires/")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert UNAVAILABLE in response.json()["detail"]
    assert response["Retry-After"] == "30"


def test_service_recovers_when_database_is_back(django_db_blocker):
    with django_db_blocker.unblock():
        with database_on_closed_port():
            _client("alpha.localhost").get("/connexion/")
        response = _client("alpha.localhost").get("/connexion/")

    assert response.status_code == 200


def test_killed_connection_is_replaced(django_db_blocker):
    """A connection that PostgreSQL ended between two requests, as in a server restart, is
    found broken by Django's health check and replaced without an error."""
    with django_db_blocker.unblock():
        _client("alpha.localhost").get("/connexion/")
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
        _terminate_backend(backend_pid)
        # Django's WSGI handler makes this call at the start of each request; the test client
        # leaves it out.
        close_old_connections()

        response = _client("alpha.localhost").get("/connexion/")

    assert response.status_code == 200


def _terminate_backend(backend_pid: int) -> None:
    database = connection.settings_dict
    with psycopg.connect(
        host=database["HOST"],
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"],
        dbname=database["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
