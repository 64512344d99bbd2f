"""The Suivi Social stack that the load and fault runs drive, on a private PostgreSQL cluster.

``load_stack()`` creates a database in a private cluster (see ``cluster.py``), migrates it,
provisions the structures with their agents and synthetic files in a child process, opens a
Django session per agent, starts gunicorn on a free port of 127.0.0.1 and yields a ``Stack``.
At exit it stops gunicorn; the cluster's context removes the data.

Sign-in is bypassed: the child writes each agent's session row itself, as ``django.contrib.auth``
does after a ProConnect sign-in, and the load clients send that session's cookie. The real
sign-in flow against a local OpenID provider is covered by tests/signin.

Run as a script, this module is that child: ``python -m benchmarks.load.stack prepare ...``.
"""

import argparse
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

from benchmarks.load.cluster import Cluster, free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DATABASE_NAME = "suivi_load"
SLUG_PREFIX = "charge"
AGENT_DOMAIN = "charge.suivi-social.test"
PREPARE_TIMEOUT_S = 1200
START_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
BATCH_SIZE = 2_000
# File numbers and names handed to the clients per structure, to open files and search.
SAMPLE_FILES = 300
# Synthesis text of a load write: "[<structure slug>] <client token> ...". The checks parse it.
WRITE_PATTERN = re.compile(r"^\[(?P<slug>[a-z0-9-]+)\] (?P<token>[0-9a-f]{32})\b")
# Variables that configure the application. The stack sets those it needs and drops the
# others, so a developer's own settings cannot leak into the measured service.
CONFIGURATION_PREFIXES = (
    "DJANGO_",
    "DATABASE_",
    "OIDC_",
    "BASE_DOMAIN",
    "PUBLIC_URL_",
    "SENTRY_",
    "EMAIL_",
    "REDIS_URL",
    "RATE_LIMIT_",
    "SESSION_COOKIE_",
    "MEDIA_ROOT",
    "LOG_",
    "GUNICORN_",
)

logger = logging.getLogger("benchmarks.load")


@dataclass(frozen=True)
class StackOptions:
    structures: int
    files: int
    agents_per_structure: int
    workers: int = 2
    threads: int = 4


@dataclass
class Stack:
    cluster: Cluster
    database_url: str
    port: int
    manifest_file: Path
    manifest: dict[str, Any]
    gunicorn: subprocess.Popen[bytes]
    log_file: Path
    prepare_s: float

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> set[int]:
        """Return the pids of gunicorn's workers, the master's children."""
        children = Path(f"/proc/{self.gunicorn.pid}/task/{self.gunicorn.pid}/children")
        try:
            return {int(pid) for pid in children.read_text().split()}
        except OSError:
            return set()

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def application_environment(database_url: str, port: int, media_root: Path) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(CONFIGURATION_PREFIXES)
    }
    environment.update(
        DJANGO_ENV="development",
        DJANGO_SETTINGS_MODULE="src.settings",
        DATABASE_URL=database_url,
        BASE_DOMAIN="localhost",
        PUBLIC_URL_PORT=str(port),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        LOG_LEVEL="WARNING",
        MEDIA_ROOT=str(media_root),
        PYTHONPATH=str(REPO_ROOT),
    )
    return environment


@contextmanager
def load_stack(cluster: Cluster, options: StackOptions) -> Iterator[Stack]:
    """Prepare the database in ``cluster``, start gunicorn and yield the stack."""
    with psycopg.connect(cluster.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {DATABASE_NAME}")
    database_url = cluster.database_url(DATABASE_NAME)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="suivi-load-") as folder:
        work = Path(folder)
        environment = application_environment(database_url, port, work / "media")
        manifest_file = work / "manifest.json"
        started = time.monotonic()
        command = [
            sys.executable,
            "-m",
            "benchmarks.load.stack",
            "prepare",
            f"--manifest={manifest_file}",
            f"--structures={options.structures}",
            f"--files={options.files}",
            f"--agents-per-structure={options.agents_per_structure}",
        ]
        subprocess.run(
            command, cwd=REPO_ROOT, env=environment, check=True, timeout=PREPARE_TIMEOUT_S
        )
        prepare_s = time.monotonic() - started
        manifest = json.loads(manifest_file.read_text())
        manifest["port"] = port
        manifest_file.write_text(json.dumps(manifest))
        log_file = work / "gunicorn.log"
        with log_file.open("w") as log:
            gunicorn = subprocess.Popen(
                [
                    str(VENV_BIN / "gunicorn"),
                    "src.wsgi:application",
                    f"--bind=127.0.0.1:{port}",
                    f"--workers={options.workers}",
                    f"--threads={options.threads}",
                    "--worker-class=gthread" if options.threads > 1 else "--worker-class=sync",
                    "--timeout=30",
                    # As deploy/gunicorn.conf.py: above the clients' idle time between requests,
                    # so gunicorn never closes a kept-alive connection as a client reuses it.
                    "--keep-alive=75",
                    "--no-control-socket",
                ],
                cwd=REPO_ROOT,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        stack = Stack(
            cluster, database_url, port, manifest_file, manifest, gunicorn, log_file, prepare_s
        )
        try:
            wait_until_serving(stack)
            yield stack
        finally:
            stop_process(gunicorn)


def wait_until_serving(stack: Stack) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if stack.gunicorn.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{stack.log_tail()}")
        try:
            response = requests.get(
                f"{stack.base_url}/", headers={"Host": f"localhost:{stack.port}"}, timeout=5
            )
            if response.status_code < 500:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {START_TIMEOUT_S} s:\n{stack.log_tail()}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Stop a process started with ``start_new_session`` and its children."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- Stored writes (no Django: plain SQL on the stack's database) --------------------------


def stored_writes(database_url: str, slugs: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Return, per structure slug, the (slug, token) of each load write stored in its schema.

    Reads every interview whose synthesis starts with "[", the mark of a load write, so a row
    carrying another structure's slug is returned too.
    """
    stored: dict[str, list[tuple[str, str]]] = {}
    with psycopg.connect(database_url) as connection:
        schemas = dict(
            connection.execute(
                "SELECT slug, schema_name FROM tenants_structure WHERE slug = ANY(%s)", [slugs]
            ).fetchall()
        )
        for slug in slugs:
            rows = connection.execute(
                psycopg.sql.SQL(
                    "SELECT synthesis FROM {}.core_followup WHERE synthesis LIKE %s"
                ).format(psycopg.sql.Identifier(schemas[slug])),
                ["[%"],
            ).fetchall()
            found = []
            for (text,) in rows:
                match = WRITE_PATTERN.match(text)
                found.append((match["slug"], match["token"]) if match else ("?", text[:40]))
            stored[slug] = found
    return stored


# --- The child process: data and sessions --------------------------------------------------


def luhn_complete(digits: str) -> str:
    """Append the Luhn check digit that valid SIREN and SIRET numbers end with."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str(-total % 10)


def prepare(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    call_command("build_template_schema", verbosity=0)
    from tenants.communes import largest_communes

    communes = [c for c in largest_communes(100) if c.town_hall_address][: args.structures]
    structures = []
    for index, commune in enumerate(communes):
        slug = f"{SLUG_PREFIX}-{index + 1:02d}"
        structures.append(provision_one(slug, commune, index, args))
        logger.warning("Structure %s ready", slug)
    connection.set_schema_to_public()
    Path(args.manifest).write_text(json.dumps({"structures": structures}))


def provision_one(slug: str, commune: Any, index: int, args: argparse.Namespace) -> dict[str, Any]:
    from django_tenants.utils import tenant_context

    from core.enums import Role
    from core.models import Agent, FollowupType
    from tenants.models import Structure
    from tenants.provisioning import ManagerData, StructureData, provision_structure

    siren = luhn_complete(f"{2000 + index:08d}")
    structure, _ = provision_structure(
        StructureData(
            slug=slug,
            name=f"CCAS de {commune.name}",
            kind=Structure.Kind.CCAS,
            address=commune.town_hall_address,
            sirets=[luhn_complete(f"{siren}0001")],
            insee_code=commune.insee_code,
            phone=commune.town_hall_phone,
        ),
        ManagerData(f"responsable.{slug}@{AGENT_DOMAIN}", "Camille", "Martin"),
        send_invitation=False,
    )
    with tenant_context(structure):
        agents = [
            Agent.objects.create(
                email=f"agent{number}.{slug}@{AGENT_DOMAIN}",
                first_name="Agent",
                last_name=f"{slug} {number}",
                role=Role.SOCIAL_WORKER,
            )
            for number in range(1, args.agents_per_structure + 1)
        ]
        files = insert_files(args.files, seed=index, author=agents[0])
        followup_types = list(
            FollowupType.objects.filter(is_proposed=True).values_list("pk", flat=True)
        )
        sessions = [open_session(agent) for agent in agents]
    return {
        "slug": slug,
        "schema": structure.schema_name,
        "host": structure.host,
        "sessions": sessions,
        "files": files,
        "followup_types": followup_types,
    }


def insert_files(count: int, seed: int, author: Any) -> list[dict[str, str]]:
    """Insert ``count`` active synthetic files with Faker fr_FR; return a sample of them."""
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone
    from faker import Faker

    from core.enums import AccommodationMode, FamilySituation, Gender
    from core.models import Beneficiary
    from core.models.beneficiaries import FILE_NUMBER_ALPHABET, FILE_NUMBER_LENGTH

    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    numbers: set[str] = set()
    sample: list[dict[str, str]] = []
    today = timezone.localdate()
    for start in range(0, count, BATCH_SIZE):
        batch = []
        for _ in range(min(BATCH_SIZE, count - start)):
            number = "".join(rng.choices(FILE_NUMBER_ALPHABET, k=FILE_NUMBER_LENGTH))
            if number in numbers:
                continue
            numbers.add(number)
            female = rng.random() < 0.55
            beneficiary = Beneficiary(
                file_number=number,
                civility="miss" if female else "mister",
                gender=Gender.FEMALE if female else Gender.MALE,
                first_names=fake.first_name_female() if female else fake.first_name_male(),
                usual_name=fake.last_name(),
                birth_date=today - timedelta(days=rng.randint(18 * 365, 95 * 365)),
                street_number=str(rng.randint(1, 120)),
                street=fake.street_name(),
                postal_code=fake.postcode(),
                city=fake.city(),
                phone_1=fake.numerify("06 ## ## ## ##"),
                family_situation=rng.choice(FamilySituation.values),
                accommodation_mode=rng.choice(AccommodationMode.values),
                created_by=author,
            )
            beneficiary.refresh_search_keys()
            batch.append(beneficiary)
        with transaction.atomic():
            Beneficiary.objects.bulk_create(batch)
        sample += [
            {"file_number": b.file_number, "name": b.usual_name}
            for b in batch[: max(0, SAMPLE_FILES - len(sample))]
        ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_beneficiary")
    return sample


def open_session(agent: Any) -> str:
    """Write a signed-in session for ``agent``, as ``django.contrib.auth.login`` does."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from core.signin.views import BACKEND_PATH

    session = SessionStore()
    session[SESSION_KEY] = str(agent.pk)
    session[BACKEND_SESSION_KEY] = BACKEND_PATH
    session[HASH_SESSION_KEY] = agent.get_session_auth_hash()
    session.save(must_create=True)
    assert session.session_key is not None
    return session.session_key


def main() -> None:
    parser = argparse.ArgumentParser(description="Prepare the load stack's database (child).")
    parser.add_argument("command", choices=["prepare"])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--structures", type=int, required=True)
    parser.add_argument("--files", type=int, required=True)
    parser.add_argument("--agents-per-structure", type=int, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if os.environ.get("DJANGO_ENV") != "development":
        sys.exit("Run through load_stack(), which sets DJANGO_ENV=development.")
    prepare(args)


if __name__ == "__main__":
    main()
