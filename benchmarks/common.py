"""Helpers shared by the benchmark scripts: scratch databases, percentiles, tables, machine
facts and the sections of docs/benchmarks.md.

Scripts that use it run as modules from the repository root (``python -m benchmarks.<name>``),
or as scripts that first put the repository root on ``sys.path``, so that ``benchmarks`` is
importable. It imports Django only inside ``close_django_connections()``.
"""

import argparse
import logging
import math
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS_FILE = REPO_ROOT / "docs" / "benchmarks.md"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/suivi_social"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# Width of the hand-written Markdown in docs/.
DOCS_WIDTH = 96

logger = logging.getLogger(__name__)


# --- Databases -----------------------------------------------------------------------------


def server_url() -> str:
    """Return DATABASE_URL (or the development default), and exit if it names another host."""
    url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    host = urlsplit(url).hostname
    if host is not None and host not in LOOPBACK_HOSTS:
        sys.exit(
            f"Invalid DATABASE_URL host {host}: scratch databases are only created on this "
            "machine. Use 127.0.0.1, localhost or ::1."
        )
    return url


def with_database(url: str, name: str) -> str:
    """Return ``url`` with its database name replaced by ``name``."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def admin_execute(url: str, statement: sql.Composable | str) -> list[tuple[Any, ...]]:
    """Run one statement in the server's ``postgres`` database, outside a transaction."""
    query = sql.SQL(statement) if isinstance(statement, str) else statement  # type: ignore[arg-type]
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as connection:
        cursor = connection.execute(query)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def scratch_database(
    url: str,
    name: str,
    *,
    before_drop: Callable[[], object] | None = None,
    log: logging.Logger = logger,
) -> Iterator[str]:
    """Create database ``name`` on the server of ``url``, yield its URL, then drop it.

    ``before_drop`` runs just before the drop, for instance ``close_django_connections`` when
    this process set Django up on the database. The drop uses ``WITH (FORCE)``, so connections
    that a crashed child left open end too. ``log`` is the logger that records the drop.
    """
    admin_execute(url, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(url, name)
    finally:
        if before_drop is not None:
            before_drop()
        admin_execute(
            url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        log.info("Dropped scratch database %s", name)


def close_django_connections() -> None:
    """Close this process's Django database connections, if Django is set up."""
    from django.apps import apps
    from django.db import connections

    if apps.ready:
        connections.close_all()


# --- Figures -------------------------------------------------------------------------------


def percentile(samples: Sequence[float], rank: float) -> float:
    """Return the ``rank`` percentile (0 to 100) of ``samples`` by the nearest-rank method.

    With fewer than 100 / (100 - rank) samples this is the largest one.
    """
    if not samples:
        raise ValueError("percentile of no samples")
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def p95(samples: Sequence[float]) -> float:
    return percentile(samples, 95)


def bounded(low: int, high: int) -> Callable[[str], int]:
    """Return an argparse type that accepts a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value

    return parse


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """Render a table as Markdown, or as aligned plain text for the terminal.

    The first column is left-aligned and the others, figures, right-aligned.
    """
    if markdown:
        rule = ["---"] + ["---:"] * (len(header) - 1)
        return "\n".join("| " + " | ".join(line) + " |" for line in [header, rule, *rows])
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    )


# --- Machine -------------------------------------------------------------------------------


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages, as "1.20, 0.90, 0.75"."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def one_minute_load_average() -> str:
    """Return the 1 minute load average, as "1.20"."""
    return f"{os.getloadavg()[0]:.2f}"


def code_version() -> str:
    """Return the short commit and whether the work tree has uncommitted changes."""

    def git(*args: str) -> str:
        command = ["git", "-C", str(REPO_ROOT), *args]
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "code outside a git checkout"
    return f"code at commit {commit}" + (" with uncommitted changes" if changed else "")


def machine_facts(database_url: str, load: Callable[[], str] = load_average) -> dict[str, str]:
    """Return what a figure depends on: CPU, PostgreSQL and library versions, code, date, load.

    ``load`` gives the "load_before" entry: ``load_average`` or ``one_minute_load_average``.
    """
    cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    server = admin_execute(database_url, "SHOW server_version")[0][0]
    return {
        "cores": str(os.cpu_count()),
        "cpu": model.group(1).strip() if model else "unknown CPU",
        "postgres": f"PostgreSQL {server.split()[0]}",
        "python": sys.version.split()[0],
        "django": version("Django"),
        "django_tenants": version("django-tenants"),
        "date": datetime.now().astimezone().date().isoformat(),
        "code": code_version(),
        "load_before": load(),
    }


def machine_sentence(facts: dict[str, str]) -> str:
    """Describe the machine and its load in one sentence, for a docs section."""
    text = (
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['postgres']}, Python "
        f"{facts['python']}, Django {facts['django']}, django-tenants "
        f"{facts['django_tenants']}; {facts['code']}; run on {facts['date']}. Load average "
        f"(1, 5 and 15 min) {facts['load_before']} before the run"
    )
    if "load_after" in facts:
        text += f" and {facts['load_after']} after it"
    return text + "."


# --- docs/benchmarks.md --------------------------------------------------------------------


def wrap(text: str, indent: str = "") -> str:
    """Wrap generated prose at the width of the hand-written docs, without breaking names."""
    return textwrap.fill(
        text,
        width=DOCS_WIDTH,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def check_docs_file(docs_file: Path = DOCS_FILE) -> None:
    """Exit unless ``docs_file`` exists, so that a run does not end on a page it cannot update."""
    if not docs_file.is_file():
        sys.exit(
            f"Docs file not found: {docs_file}. Its introduction is written by hand: create it "
            "first (a copy of docs/benchmarks.md will do), or pass --no-docs."
        )


def write_section(title: str, section: str, docs_file: Path = DOCS_FILE) -> None:
    """Replace the section headed ``title`` (a "## " line) in ``docs_file``, or append it.

    The section runs to the next "## " heading. The file must exist: its introduction is
    written by hand.
    """
    text = docs_file.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    body = section.rstrip() + "\n"
    if not body.startswith(title + "\n"):
        raise ValueError(f"The section must start with its title {title!r}.")
    if pattern.search(text):
        text = pattern.sub(lambda _: body + "\n", text, count=1)
    else:
        text = text.rstrip() + "\n\n" + body
    docs_file.write_text(text.rstrip() + "\n", encoding="utf-8")
