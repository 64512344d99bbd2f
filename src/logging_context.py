"""The request id and the structure's schema on every log record, and the JSON log format.

The request id lives in a context variable, set by ``RequestIdMiddleware`` for the time of one
request and reset afterwards, so a record never carries the id of another request or thread.
The schema is read from the thread's database connection when the record is made, which is
also right in jobs that loop over structures.
"""

import contextvars
import logging
import re
import uuid
from typing import Any

from django.db import connection
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

# Request ids accepted from the X-Request-ID header: UUIDs, hexadecimal ids and the like, as an
# ingress, a load balancer or a client sends them. Anything else (spaces, line breaks, very
# long values) is replaced, so that a client cannot forge log lines or bloat them.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}")

# The request object that Django's loggers attach shows the full URL, whose query string may
# hold a searched name: it is never written out.
OMITTED_RECORD_ATTRIBUTES = ["request", "server_time"]


def request_id_from(header_value: str | None) -> str:
    """Return the client's request id when it is a plain token, else a new random one."""
    if header_value and REQUEST_ID_PATTERN.fullmatch(header_value):
        return header_value
    return uuid.uuid4().hex


def current_schema_name() -> str:
    """Return the schema that the thread's database connection uses, "public" by default."""
    return getattr(connection, "schema_name", None) or "public"


class RequestContextFilter(logging.Filter):
    """Add ``schema_name`` and ``request_id`` ("-" outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.schema_name = current_schema_name()
        record.request_id = request_id_var.get() or "-"
        return True


class JsonLogFormatter(JsonFormatter):
    """Format a record as one JSON object: timestamp, level, logger, message, schema,
    request_id, then the record's extra fields and the formatted exception if any."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(
            "{levelname}{name}{message}{schema_name}{request_id}",
            style="{",
            rename_fields={"levelname": "level", "name": "logger", "schema_name": "schema"},
            timestamp=True,
            reserved_attrs=[*RESERVED_ATTRS, *OMITTED_RECORD_ATTRIBUTES],
        )
