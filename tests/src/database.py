"""Helpers that make the test process lose its database connection on purpose."""

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def closed_port() -> int:
    """Return a loopback port that nothing listens on, so a connection is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def database_on_closed_port() -> Iterator[None]:
    """Point the default connection at a closed port, as if PostgreSQL were down.

    The connection is closed on entry and on exit, so the next query after the block opens a
    fresh connection to the real server, as Django does after an outage.
    """
    saved = {key: connection.settings_dict[key] for key in ("HOST", "PORT")}
    in_atomic_block = connection.in_atomic_block
    if in_atomic_block:
        raise RuntimeError("Use this helper outside a test transaction (no ``db`` fixture).")

    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=str(closed_port()))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)
