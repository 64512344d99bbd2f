"""A structure's URLs plus one address that raises, for the error reporting tests."""

import sentry_sdk
from django.http import HttpRequest, HttpResponse
from django.urls import path

from src.urls_tenant import urlpatterns as structure_urlpatterns


def failing_view(request: HttpRequest) -> HttpResponse:
    # A tag set by one request only, to show that it does not reach a later request's event.
    if "marquer" in request.GET:
        sentry_sdk.set_tag("marked_request", "yes")
    raise RuntimeError("Failure raised on purpose by a test")


urlpatterns = [path("echec-de-test/", failing_view), *structure_urlpatterns]
