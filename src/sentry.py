"""Error reporting to Sentry without personal data.

Each event carries two tags: ``structure``, the schema in use when the error happened, and
``request_id``, set on the request's own isolation scope by ``RequestIdMiddleware``. Neither can
come from another request, because the schema is read from the thread's connection when the
event is captured and each request gets a fresh isolation scope.
"""

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.transport import Transport

from src.logging_context import current_schema_name

# Request fields kept in an event. Headers, cookies, the body and the query string (a search
# may hold a person's name) are dropped.
KEPT_REQUEST_FIELDS = ("method", "url")


def init_sentry(dsn: str, environment: str, transport: Transport | None = None) -> None:
    """Start the Sentry client. ``transport`` replaces the network transport in tests."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration()],
        # sentry-sdk 2.76 replaces send_default_pii=False with this option, and warns when
        # both are given. Nothing about the user or the request is collected, and no local
        # variable of a stack frame, since any of them may hold a person's data.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        traces_sample_rate=0.0,
        before_send=scrub_event,
        transport=transport,
    )


def scrub_event(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """Remove request data and user fields from an event, and tag it with its structure."""
    request = event.get("request")
    if request:
        event["request"] = {key: request[key] for key in KEPT_REQUEST_FIELDS if key in request}
    event.pop("user", None)

    # The SDK applies scope tags before before_send, and Sentry's own tags are a dict.
    event.setdefault("tags", {})["structure"] = current_schema_name()
    return event
