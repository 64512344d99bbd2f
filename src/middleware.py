import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import sentry_sdk
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import Error, InterfaceError, OperationalError, connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from src.logging_context import request_id_from, request_id_var

NUL_BYTE_MESSAGE = (
    "La requête contient un caractère nul (\\u0000), que le service n'accepte dans aucun "
    "champ. Retirez-le, puis envoyez la requête à nouveau."
)

DATABASE_UNAVAILABLE_MESSAGE = (
    "Le service est momentanément indisponible : sa base de données ne répond pas. "
    "Réessayez dans quelques minutes."
)
# Retry-After value, in seconds, of a 503 caused by the database.
DATABASE_RETRY_AFTER_SECONDS = 30
# Errors that only a lost or refused connection, or a statement timeout, raises. psycopg's own
# classes are listed because Django does not convert every driver error. A server-side
# cursor's close(), which Django calls after the last fetch of QuerySet.iterator(), raises
# psycopg's error as it is, e.g. AdminShutdown when PostgreSQL stopped just before.
CONNECTION_ERRORS = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
# Any other database error is a 503 only when the connection turns out to be unusable.
DATABASE_ERRORS = (Error, psycopg.Error)

logger = logging.getLogger(__name__)


class RequestIdMiddleware:
    """Give each request an id, for its log lines, its Sentry events and the X-Request-ID
    response header.

    The id comes from the request's X-Request-ID header when it is a plain token, so a line of
    the ingress's log leads to the application's lines. Each request also runs in an isolation
    scope of its own, so a Sentry tag set for one request never reaches another.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        # Cleared when the response is closed, not here: Django logs a response's 4xx or 5xx
        # status after the middleware chain has returned.
        request_id_var.set(request_id)
        with sentry_sdk.isolation_scope() as scope:
            scope.set_tag("request_id", request_id)
            response = self.get_response(request)

        response["X-Request-ID"] = request_id
        return response


@receiver(request_started, dispatch_uid="src.middleware.clear_request_id_at_start")
@receiver(request_finished, dispatch_uid="src.middleware.clear_request_id_at_end")
def _clear_request_id(**kwargs: Any) -> None:
    # A worker thread serves one request after another: clearing at both ends keeps an id
    # from reaching the next request or the thread's work between requests.
    request_id_var.set(None)


class DatabaseUnavailableMiddleware:
    """Replace the 500 of a request that failed for want of a database with a French 503.

    Django turns an exception into a 500 response inside each middleware layer, so this layer
    receives a response, not the exception. ``_flag_database_error`` therefore marks the
    request when Django reports an uncaught database connection error. The page is rendered
    without a request context, since context processors would query the database again.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not getattr(request, "database_unavailable", False):
            return response

        if request.path_info.startswith("/api/"):
            unavailable = JsonResponse({"detail": DATABASE_UNAVAILABLE_MESSAGE}, status=503)
        else:
            unavailable = HttpResponse(render_to_string("503.html"), status=503)
        unavailable["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        unavailable["Cache-Control"] = "no-store"
        return unavailable


@receiver(got_request_exception, dispatch_uid="src.middleware.flag_database_error")
def _flag_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    # Django sends this signal from inside its "except" block, so sys.exc_info() is the error.
    error = sys.exc_info()[1]
    if request is not None and error is not None and database_unavailable(error):
        request.database_unavailable = True  # type: ignore[attr-defined]


def database_unavailable(error: BaseException) -> bool:
    """Tell whether ``error`` means that the database is gone, rather than a bug.

    The error raised last is not always the first one: cleanup code that runs after a lost
    connection (closing a server-side cursor, rolling back) can raise an error of another class
    that chains the first. So the whole chain is read, and an error of any other database class
    counts only when the connection turns out to be unusable.
    """
    chain = list(_exception_chain(error))
    if any(isinstance(link, CONNECTION_ERRORS) for link in chain):
        return True
    if any(isinstance(link, DATABASE_ERRORS) for link in chain):
        return _connection_unusable()
    return False


def _exception_chain(error: BaseException) -> Iterator[BaseException]:
    """Yield ``error``, then the errors it was raised from or while handling."""
    seen: set[int] = set()
    link: BaseException | None = error
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _connection_unusable() -> bool:
    """Tell whether this thread's database connection is unusable.

    It is when psycopg marked it closed, when "SELECT 1" fails on it, or, with no connection
    open, when a new one cannot be opened. "SELECT 1" runs only on an idle connection. One
    inside a transaction is not probed, because the server responded to its last statement. A
    failed statement leaves it open, in an aborted transaction where even "SELECT 1" fails.
    """
    raw = connection.connection
    if raw is not None:
        if raw.closed:
            return True
        if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            return False
        return not connection.is_usable()
    try:
        connection.ensure_connection()
    except DATABASE_ERRORS as error:
        logger.warning("Database connection failed after a request error: %s", type(error).__name__)
        return True
    return False


class MethodNotAllowedPageMiddleware:
    """Replace the empty 405 responses of Django's method decorators with a French page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not response.content:
            page = render(request, "405.html", status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response


class NulByteMiddleware:
    """Return 400 with a French page when a parameter contains a NUL byte.

    PostgreSQL text columns reject NUL bytes, and no form or filter has a use for one. Under
    /api/ the answer is JSON, as every other API error.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        parameters = [
            *request.GET.lists(),
            *(request.POST.lists() if request.method == "POST" else []),
        ]
        if "\x00" in request.path or any(
            "\x00" in value for _, values in parameters for value in values
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_BYTE_MESSAGE}, status=400)
            return render(request, "400.html", status=400)
        return self.get_response(request)
