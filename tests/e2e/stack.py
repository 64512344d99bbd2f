"""A real Suivi Social stack for the end-to-end tests, outside pytest-django's test database.

``running_stack()`` creates a database of its own on the PostgreSQL server of DATABASE_URL.
It migrates and seeds that database with the management commands, then starts the local
OpenID provider (deploy/oidc-provider) and the application in gunicorn. On exit it stops the
servers and drops the database, whether the tests passed or not.

Every process listens on 127.0.0.1. Structures are reached at ``http://<slug>.localhost:<port>``
(Chromium resolves ``*.localhost`` to the loopback address itself), the national console at
``http://localhost:<port>``.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import requests
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = ROOT / "deploy" / "oidc-provider"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/suivi_social"
START_TIMEOUT_SECONDS = 30
COMMAND_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 10
# Variables that configure the application or the provider. The stack sets the ones it needs
# and drops the others, so a developer's own settings cannot leak into it.
CONFIGURATION_PREFIXES = (
    "DJANGO_",
    "DATABASE_",
    "OIDC_",
    "BASE_DOMAIN",
    "PUBLIC_URL_",
    "SENTRY_",
    "EMAIL_",
    "DEFAULT_FROM_EMAIL",
    "SUPPORT_EMAIL",
    "SESSION_COOKIE_",
    "MEDIA_ROOT",
    "LOG_LEVEL",
)


@dataclass(frozen=True)
class Stack:
    port: int
    provider_issuer: str
    log_dir: Path

    def structure_url(self, slug: str, path: str = "/") -> str:
        return f"http://{slug}.localhost:{self.port}{path}"

    def public_url(self, path: str = "/") -> str:
        return f"http://localhost:{self.port}{path}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_database_url() -> str:
    """Return the database URL the development scripts use (see deploy/dev/env.sh)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    saved = ROOT / "var" / "database-url"
    if saved.exists():
        return saved.read_text(encoding="utf-8").strip()
    return DEFAULT_DATABASE_URL


@contextmanager
def e2e_database() -> Iterator[str]:
    """Create an empty database next to DATABASE_URL's, yield its URL, then drop it."""
    url = urlparse(server_database_url())
    name = f"suivi_social_e2e_{secrets.token_hex(4)}"
    admin_url = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _base_environment() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CONFIGURATION_PREFIXES)
    }


def _log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def _run_command(arguments: list[str], environment: dict[str, str], log_dir: Path) -> None:
    log_path = log_dir / f"{arguments[0]}.log"
    with log_path.open("a", encoding="utf-8") as log:
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), *arguments],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    if result.returncode != 0:
        raise RuntimeError(
            f"manage.py {' '.join(arguments)} failed with status {result.returncode} "
            f"(full output in {log_path}):\n{_log_tail(log_path)}"
        )


@contextmanager
def _process(
    name: str, arguments: list[str], environment: dict[str, str], log_dir: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process in its own process group. At exit, stop it and its children."""
    with (log_dir / f"{name}.log").open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            arguments,
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_SECONDS)


def _wait_until_up(name: str, url: str, process: subprocess.Popen[bytes], log_dir: Path) -> None:
    log_path = log_dir / f"{name}.log"
    session = requests.Session()
    session.trust_env = False  # never through a proxy: the servers are on this machine
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    with session:
        while True:
            try:
                if session.get(url, timeout=2, allow_redirects=False).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} failed to start: {url} did not return 200 within "
                    f"{START_TIMEOUT_SECONDS} s (full output in {log_path}):\n{_log_tail(log_path)}"
                )
            time.sleep(0.2)


def _check_prerequisites() -> None:
    if shutil.which("node") is None:
        raise RuntimeError(
            "Node.js is missing, and the local OpenID provider needs it: run deploy/dev/setup.sh."
        )
    if not (PROVIDER_DIR / "node_modules").is_dir():
        raise RuntimeError(
            "The local OpenID provider's packages are missing: run deploy/dev/setup.sh "
            "(or npm ci --prefix deploy/oidc-provider)."
        )


@contextmanager
def running_stack(log_dir: Path) -> Iterator[Stack]:
    """Run the whole stack, writing the servers' and commands' output to ``log_dir``."""
    _check_prerequisites()
    log_dir.mkdir(parents=True, exist_ok=True)
    app_port = free_port()
    provider_port = free_port()
    while provider_port == app_port:
        provider_port = free_port()
    issuer = f"http://localhost:{provider_port}"
    app_base = f"http://localhost:{app_port}"

    with ExitStack() as stack:
        database_url = stack.enter_context(e2e_database())
        app_environment = {
            **_base_environment(),
            "DJANGO_SETTINGS_MODULE": "src.settings",
            "DJANGO_ENV": "test",
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": database_url,
            "BASE_DOMAIN": "localhost",
            "PUBLIC_URL_SCHEME": "http",
            "PUBLIC_URL_PORT": str(app_port),
            "OIDC_OP_ISSUER": issuer,
            "MEDIA_ROOT": str(log_dir / "media"),
            "NO_PROXY": "localhost,.localhost,127.0.0.1",
        }
        for command in (
            ["migrate_schemas", "--shared", "--verbosity", "0"],
            ["build_template_schema"],
            ["seed_demo", "--beneficiaries", "20"],
        ):
            _run_command(command, app_environment, log_dir)

        provider_environment = {
            **_base_environment(),
            "OIDC_PROVIDER_PORT": str(provider_port),
            "OIDC_PROVIDER_HOST": "127.0.0.1",
            "OIDC_PROVIDER_ISSUER": issuer,
            "OIDC_REDIRECT_URIS": f"{app_base}/oidc/callback/",
            "OIDC_POST_LOGOUT_REDIRECT_URIS": f"{app_base}/deconnexion/retour/",
        }
        provider = stack.enter_context(
            _process(
                "oidc-provider",
                ["node", str(PROVIDER_DIR / "server.mjs")],
                provider_environment,
                log_dir,
            )
        )
        _wait_until_up("oidc-provider", f"{issuer}/health", provider, log_dir)

        gunicorn = stack.enter_context(
            _process(
                "gunicorn",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "src.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{app_port}",
                    "--workers",
                    "2",
                    "--graceful-timeout",
                    "5",
                    # Otherwise gunicorn 27 binds its control socket at ~/.gunicorn/gunicorn.ctl,
                    # the default path of every gunicorn this user runs (a development server too).
                    "--no-control-socket",
                    "--access-logfile",
                    "-",
                    "--error-logfile",
                    "-",
                ],
                app_environment,
                log_dir,
            )
        )
        _wait_until_up("gunicorn", f"{app_base}/", gunicorn, log_dir)
        yield Stack(port=app_port, provider_issuer=issuer, log_dir=log_dir)
