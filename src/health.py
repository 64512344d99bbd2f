"""Liveness and readiness probes, handled before the structure is looked up.

Kubernetes probes a pod at its IP address, which is no structure's host and no allowed host.
The middleware responds to these two exact paths without reading the Host header, so host checks
stay in force for every other path.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

LIVENESS_PATH = "/sante/vivant/"
READINESS_PATH = "/sante/pret/"


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The liveness probe does not touch the database: a database outage must not make
        # Kubernetes restart every web pod.
        if request.path_info == LIVENESS_PATH:
            return _status_response(healthy=True)
        if request.path_info == READINESS_PATH:
            return _status_response(healthy=database_answers())
        return self.get_response(request)


def database_answers() -> bool:
    """Run "SELECT 1" under a short statement timeout, and tell whether it succeeded."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('statement_timeout', %s, true)",
                [str(settings.HEALTH_CHECK_STATEMENT_TIMEOUT_MS)],
            )
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        logger.warning("Readiness check failed: database error %s", type(error).__name__)
        return False
    return True


def _status_response(healthy: bool) -> HttpResponse:
    response = JsonResponse(
        {"status": "ok" if healthy else "unavailable"}, status=200 if healthy else 503
    )
    response["Cache-Control"] = "no-store"
    return response
