import html
import re
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core import signals
from django.db import close_old_connections
from django.http import HttpResponse
from django.test import Client


def page_text(response: HttpResponse) -> str:
    """Return the response body with HTML entities decoded, as a reader sees the text."""
    return html.unescape(response.content.decode())


def visible_text(response: HttpResponse) -> str:
    """Return the text a reader sees: tags removed, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(without_tags))


def as_server(client: Client) -> Client:
    """Let the client return the 500 page, as a real server would, instead of raising."""
    client.raise_request_exception = False
    return client


class FailingEmailBackend:
    """An e-mail backend whose server is down."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("SMTP server unreachable")


class RefusingEmailBackend:
    """An e-mail backend whose server refuses the recipients, naming them as smtplib does."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        pass

    def send_messages(self, messages):  # type: ignore[no-untyped-def]
        recipients = [address for message in messages for address in message.to]
        raise smtplib.SMTPRecipientsRefused({address: (550, b"refused") for address in recipients})


@contextmanager
def connection_kept_open() -> Iterator[None]:
    """Keep the test's database connection open across WSGI requests, as Django's test client
    does: its transaction contains the fixtures' data."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
