"""Requests while PostgreSQL is unreachable get a French 503, and the service recovers alone."""

from unittest import mock

import psycopg
import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import (
    DatabaseError,
    OperationalError,
    ProgrammingError,
    close_old_connections,
    connection,
)
from django.test import Client

from src.middleware import database_unavailable
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


def _server_cursor_close_on_terminated_connection():  # type: ignore[no-untyped-def]
    """Patch psycopg's server-side cursor to fail on close() as PostgreSQL's shutdown makes it.

    A query through QuerySet.iterator() fetches its rows, then Django closes the cursor, which
    sends CLOSE to the server. When the server ended the connection in between, psycopg raises
    its own AdminShutdown error there. Django converts the errors of execute() and fetch calls,
    not those of close(), so the request sees psycopg's class, not Django's OperationalError.
    """
    real_close = psycopg.ServerCursor.close

    def close(self):  # type: ignore[no-untyped-def]
        real_close(self)
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    return mock.patch.object(psycopg.ServerCursor, "close", close)


def test_server_cursor_close_error_returns_503(alpha):
    client = alpha.client("manager")
    client.raise_request_exception = False

    # The list's filter form reads its choices through QuerySet.iterator(), a server-side
    # cursor.
    with _server_cursor_close_on_terminated_connection():
        response = client.get("/beneficiaires/")

    assert response.status_code == 503
    assert UNAVAILABLE in response.content.decode()
    assert response["Retry-After"] == "30"


def test_invalid_sql_with_database_up_stays_500(alpha, settings):
    settings.ROOT_URLCONF = "tests.src.urls_failing"
    client = alpha.client("manager")
    client.raise_request_exception = False

    response = client.get("/sql-invalide/")

    assert response.status_code == 500
    assert UNAVAILABLE not in response.content.decode()


def test_programming_error_on_closed_connection_is_unavailable(django_db_blocker):
    with django_db_blocker.unblock():
        connection.ensure_connection()
        # As psycopg leaves a connection that the server ended.
        connection.connection.close()
        try:
            assert database_unavailable(ProgrammingError("the connection is lost"))
        finally:
            connection.close()


def test_programming_error_on_refused_connection_is_unavailable(django_db_blocker):
    with django_db_blocker.unblock(), database_on_closed_port():
        assert database_unavailable(ProgrammingError("the last operation didn't produce a result"))


@pytest.mark.parametrize(
    "error",
    [
        ProgrammingError('relation "table_that_does_not_exist" does not exist'),
        psycopg.errors.UndefinedTable('relation "table_that_does_not_exist" does not exist'),
        RuntimeError("not a database error"),
    ],
)
def test_error_with_database_up_is_not_unavailable(django_db_blocker, error):
    with django_db_blocker.unblock():
        connection.ensure_connection()

        assert not database_unavailable(error)


def test_error_raised_while_handling_lost_connection_is_unavailable():
    try:
        try:
            raise psycopg.errors.AdminShutdown("terminating connection")
        except psycopg.Error:
            raise RuntimeError("cleanup failed") from None
    except RuntimeError as error:
        chained = error

    assert database_unavailable(chained)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        # PostgreSQL went away between the view and the session's save.
        (OperationalError("server closed the connection unexpectedly"), 503),
        # The session row was deleted meanwhile (a sign-out in another tab): Django's 400.
        (DatabaseError("Forced update did not affect any rows."), 400),
    ],
)
def test_session_save_error(alpha, settings, error, status):
    settings.ROOT_URLCONF = "tests.src.urls_failing"
    client = alpha.client("manager")
    client.raise_request_exception = False

    with mock.patch.object(Session, "save", side_effect=error):
        response = client.get("/ecriture-de-session/")

    assert response.status_code == status
