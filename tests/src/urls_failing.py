"""A structure's URLs plus one address that raises, for the error reporting tests."""

import sentry_sdk
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from src.urls_tenant import urlpatterns as structure_urlpatterns


def failing_view(request: HttpRequest) -> HttpResponse:
    # A tag set by one request only, to show that it does not reach a later request's event.
    if "marquer" in request.GET:
        sentry_sdk.set_tag("marked_request", "yes")
    raise RuntimeError("Failure raised on purpose by a test")


def invalid_sql_view(request: HttpRequest) -> HttpResponse:
    # A ProgrammingError while the database is up: a bug, never a 503.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM table_that_does_not_exist")
    return HttpResponse()


def session_write_view(request: HttpRequest) -> HttpResponse:
    # SessionMiddleware saves the session after the view, in process_response.
    request.session["test_value"] = "1"
    return HttpResponse()


urlpatterns = [
    path("echec-de-test/", failing_view),
    path("sql-invalide/", invalid_sql_view),
    path("ecriture-de-session/", session_write_view),
    *structure_urlpatterns,
]
