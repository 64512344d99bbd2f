"""Benchmark: migrating every structure's schema after a deployment, and a migration that fails
on one structure.

Run from the repository root (PostgreSQL's server binaries must be installed):

    .venv/bin/python -m benchmarks.migrations --structures 50

The script starts a private PostgreSQL cluster on a free port of 127.0.0.1 (see
benchmarks/load/cluster.py), provisions N structures from spare copies of the template schema,
then adds throwaway tenant migrations one at a time, in an app generated in a temporary folder,
and times ``manage.py migrate_schemas --tenant`` with each executor of django-tenants. Last, a
migration that fails in one structure's schema shows what the others are left with, and a
rerun after the fix migrates the rest. It prints the figures and rewrites the "## Migrating
structures" section of docs/benchmarks.md unless --no-docs is given.
"""

import argparse
import json
import logging
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from benchmarks.common import (
    REPO_ROOT,
    bounded,
    load_average,
    machine_facts,
    machine_sentence,
    wrap,
    write_section,
)
from benchmarks.load.cluster import Cluster, private_cluster
from benchmarks.load.stack import luhn_complete

SECTION_TITLE = "## Migrating structures"
DATABASE_NAME = "suivi_migrations"
APP = "bench_migration"
SETTINGS_MODULE = "bench_migration_settings"
SLUG_PREFIX = "migr"
MAX_STRUCTURES = 200
COMMAND_TIMEOUT_S = 1800
# Table in the public schema naming the structures whose schema the failing migration rejects.
BLOCKLIST_TABLE = "bench_migration_blocked"
# (label, migrate_schemas options) of each timed run, in order. The last one is what the Helm
# chart's migration job runs, with the default of MIGRATION_PROCESSES: 4 structures at once.
EXECUTORS = [
    ("standard (one schema after the other)", ["--executor=standard"]),
    ("subprocess, 4 at once", ["--executor=subprocess", "--parallel=4"]),
    ("multiprocessing, 4 processes (the Helm job)", ["--executor=multiprocessing"]),
]
FAILING_OPTIONS = ["--executor=multiprocessing"]

logger = logging.getLogger("benchmarks.migrations")


# --- The throwaway app ---------------------------------------------------------------------


def write_app(folder: Path) -> None:
    (folder / APP / "migrations").mkdir(parents=True)
    (folder / APP / "__init__.py").write_text("")
    (folder / APP / "migrations" / "__init__.py").write_text("")
    (folder / f"{SETTINGS_MODULE}.py").write_text(
        "from src.settings import *  # noqa: F403\n\n"
        f'TENANT_APPS = [*TENANT_APPS, "{APP}"]  # noqa: F405\n'
        f'INSTALLED_APPS = [*INSTALLED_APPS, "{APP}"]  # noqa: F405\n'
    )


MIGRATION_TEMPLATE = """\
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [DEPENDENCY]
    operations = [
        GUARD
        migrations.CreateModel(
            name="NoteNUMBER",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True)),
                ("label", models.CharField(max_length=200, default="")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "beneficiary",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, to="core.beneficiary"
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="notenumber",
            index=models.Index(fields=["created_at"], name="noteNUMBER_created"),
        ),
    ]
"""
# Raises in the schemas named in the public table BLOCKLIST_TABLE.
GUARD_OPERATION = """migrations.RunSQL(
            \"\"\"DO $$ BEGIN
                IF current_schema() IN (SELECT schema_name FROM public.bench_migration_blocked)
                THEN RAISE EXCEPTION 'data of this structure blocks the migration';
                END IF;
            END $$\"\"\",
            migrations.RunSQL.noop,
        ),"""


def write_migration(folder: Path, number: int, fails_where_blocked: bool = False) -> str:
    """Write migration ``number``: a table with a foreign key to the files and an index.

    With ``fails_where_blocked``, the migration first runs a statement that raises in the
    schemas listed in the public table BLOCKLIST_TABLE, as a data problem in one structure
    would make a real migration fail.
    """
    name = f"{number:04d}_step"
    dependency = f'("{APP}", "{number - 1:04d}_step")' if number > 1 else '("core", "__latest__")'
    text = (
        MIGRATION_TEMPLATE.replace("DEPENDENCY", dependency)
        .replace("GUARD", GUARD_OPERATION if fails_where_blocked else "")
        .replace("NUMBER", str(number))
        .replace("number", str(number))
    )
    (folder / APP / "migrations" / f"{name}.py").write_text(text)
    return name


# --- Child processes -----------------------------------------------------------------------


def environment(database_url: str, folder: Path, settings: str) -> dict[str, str]:
    kept = {
        name: value
        for name, value in os.environ.items()
        # MIGRATION_PROCESSES is left to its default, which the Helm chart keeps too.
        if not name.startswith(("DJANGO_", "DATABASE_", "REDIS_URL", "LOG_", "MIGRATION_"))
    }
    return {
        **kept,
        "DJANGO_ENV": "development",
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": database_url,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(folder), str(REPO_ROOT)]),
    }


def manage(arguments: list[str], env: dict[str, str], check: bool = True) -> tuple[float, int]:
    """Run ``manage.py`` with ``arguments``; return its wall time in seconds and exit status."""
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO_ROOT,
        env=env,
        timeout=COMMAND_TIMEOUT_S,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if check and completed.returncode != 0:
        raise RuntimeError(f"manage.py {shlex.join(arguments)} failed:\n{completed.stderr[-3000:]}")
    return time.monotonic() - started, completed.returncode


def provision(structures: int) -> None:
    """Provision ``structures`` structures with one agent and a file each (child process)."""
    import django

    django.setup()
    from django.db import connection
    from django_tenants.utils import tenant_context

    from core.models import Agent, Beneficiary
    from core.models.beneficiaries import generate_file_number
    from tenants.models import Structure
    from tenants.provisioning import (
        ManagerData,
        StructureData,
        prepare_spare_schemas,
        provision_structure,
    )

    prepare_spare_schemas(structures)
    for index in range(1, structures + 1):
        slug = f"{SLUG_PREFIX}-{index:03d}"
        structure, _ = provision_structure(
            StructureData(
                slug=slug,
                name=f"CCAS {index}",
                kind=Structure.Kind.CCAS,
                address="1 place de la Mairie",
                sirets=[luhn_complete(f"{luhn_complete(f'{3000 + index:08d}')}0001")],
                insee_code="71014",
            ),
            ManagerData(f"responsable@{slug}.test", "Camille", "Martin"),
            send_invitation=False,
        )
        with tenant_context(structure):
            manager = Agent.objects.get()
            Beneficiary.objects.create(
                file_number=generate_file_number(),
                usual_name="Martin",
                first_names="Jeanne",
                created_by=manager,
            )
    connection.set_schema_to_public()


def serving_check() -> None:
    """Print, as JSON, the structures whose file list a manager gets with status 200 (child)."""
    import django

    django.setup()
    from django.test import Client
    from django_tenants.utils import tenant_context

    from core.models import Agent
    from core.signin.views import BACKEND_PATH
    from tenants.models import Structure

    serving = []
    for structure in Structure.objects.filter(slug__startswith=SLUG_PREFIX).order_by("slug"):
        client = Client(HTTP_HOST=structure.host)
        with tenant_context(structure):
            client.force_login(Agent.objects.get(), backend=BACKEND_PATH)
        if client.get("/beneficiaires/").status_code == 200:
            serving.append(structure.slug)
    print(json.dumps(serving))


# --- Checks on the database (parent process) -----------------------------------------------


def schemas(database_url: str) -> dict[str, str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            "SELECT slug, schema_name FROM tenants_structure WHERE slug LIKE %s ORDER BY slug",
            [f"{SLUG_PREFIX}-%"],
        ).fetchall()
    return dict(rows)


def migrated(database_url: str, migration: str) -> list[str]:
    """Return the slugs of the structures whose schema has ``migration`` of the app applied."""
    done = []
    with psycopg.connect(database_url) as connection:
        for slug, schema in schemas(database_url).items():
            query = sql.SQL("SELECT 1 FROM {}.django_migrations WHERE app = %s AND name = %s")
            if connection.execute(
                query.format(sql.Identifier(schema)), [APP, migration]
            ).fetchone():
                done.append(slug)
    return done


def serving(database_url: str, folder: Path) -> list[str]:
    """Return the structures that serve their file list with the running (previous) code."""
    env = environment(database_url, folder, "src.settings")
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.migrations", "--serving-check"],
        cwd=REPO_ROOT,
        env=env,
        timeout=COMMAND_TIMEOUT_S,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"The serving check failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- Runs ----------------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    seconds: float
    load_after: str


@dataclass
class Failure:
    blocked: str
    options: list[str]
    exit_status: int
    failed_run_s: float
    migrated_after_failure: int
    serving_after_failure: int
    rerun_s: float
    migrated_after_rerun: int
    serving_after_rerun: int


def run(
    cluster: Cluster,
    structures: int,
    folder: Path,
    executors: Sequence[tuple[str, list[str]]] = EXECUTORS,
) -> tuple[float, list[Timing], Failure]:
    """Provision, time one migration per executor, then fail one and rerun it."""
    with psycopg.connect(cluster.url, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {DATABASE_NAME}")
    database_url = cluster.database_url(DATABASE_NAME)
    base = environment(database_url, folder, "src.settings")
    started = time.monotonic()
    manage(["migrate_schemas", "--shared", "--noinput"], base)
    manage(["build_template_schema", "--spares=0"], base)
    subprocess.run(
        [sys.executable, "-m", "benchmarks.migrations", f"--provision={structures}"],
        cwd=REPO_ROOT,
        env=base,
        timeout=COMMAND_TIMEOUT_S,
        check=True,
    )
    prepare_s = time.monotonic() - started
    logger.info("%d structures provisioned in %.0f s", structures, prepare_s)

    write_app(folder)
    with_app = environment(database_url, folder, SETTINGS_MODULE)
    timings = []
    for number, (label, options) in enumerate(executors, start=1):
        name = write_migration(folder, number)
        seconds, _ = manage(["migrate_schemas", "--tenant", "--noinput", *options], with_app)
        done = migrated(database_url, name)
        if len(done) != structures:
            raise RuntimeError(f"{label}: {len(done)} of {structures} structures migrated")
        timings.append(Timing(label, seconds, load_average()))
        logger.info("%s: %.1f s", label, seconds)

    number = len(executors) + 1
    name = write_migration(folder, number, fails_where_blocked=True)
    slugs = schemas(database_url)
    blocked = list(slugs)[len(slugs) // 2]
    table = sql.Identifier("public", BLOCKLIST_TABLE)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE TABLE {} (schema_name text)").format(table))
        connection.execute(sql.SQL("INSERT INTO {} VALUES (%s)").format(table), [slugs[blocked]])
    command = ["migrate_schemas", "--tenant", "--noinput", *FAILING_OPTIONS]
    failed_s, status = manage(command, with_app, check=False)
    after_failure = migrated(database_url, name)
    serving_after_failure = serving(database_url, folder)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DELETE FROM {}").format(table))
    rerun_s, _ = manage(command, with_app)
    failure = Failure(
        blocked=blocked,
        options=FAILING_OPTIONS,
        exit_status=status,
        failed_run_s=failed_s,
        migrated_after_failure=len(after_failure),
        serving_after_failure=len(serving_after_failure),
        rerun_s=rerun_s,
        migrated_after_rerun=len(migrated(database_url, name)),
        serving_after_rerun=len(serving(database_url, folder)),
    )
    if blocked in after_failure or status == 0:
        raise RuntimeError(f"The failing migration did not fail in {blocked}: {failure}")
    return prepare_s, timings, failure


# --- Report --------------------------------------------------------------------------------

METHOD = """\
`benchmarks/migrations.py` starts a private PostgreSQL cluster (as the load benchmark does),
migrates the public schema, provisions N structures from spare copies of the template schema,
each with its manager and one file, then adds throwaway tenant migrations one at a time in an
app generated in a temporary folder (a settings module that imports `src.settings` adds it to
`TENANT_APPS`). Each migration creates a table with a foreign key to the files and an index.
After each one the script times `manage.py migrate_schemas --tenant --noinput` with one of
django-tenants' executors, as a deployment runs it, and checks that every schema recorded the
migration. The subprocess executor starts one `manage.py migrate_schemas --schema=<name>`
process per structure. The multiprocessing executor, which the Helm chart's migration job
runs, forks `MIGRATION_PROCESSES` processes (4 by default) from the command's own and hands
them one structure at a time (`TENANT_MULTIPROCESSING_CHUNKS = 1`). It reports a failure once
every structure has been tried.

Then a last migration fails in one structure's schema: a statement raises where the schema is
named in a public table, as data that a migration does not expect would make it fail in one
structure only. The script counts the schemas that recorded the migration, checks which
structures still serve their file list with the code of the running version (a signed-in
manager requesting `/beneficiaires/` through Django's test client), then removes the cause,
runs the same command again and checks again. Each structure's migration runs in its own
transaction, so the failing schema is left as it was."""


def render(
    args: argparse.Namespace,
    command: str,
    facts: dict[str, str],
    prepare_s: float,
    timings: list[Timing],
    failure: Failure,
) -> str:
    table = "\n".join(
        [
            "| executor | structures | total s | s per structure | load average after (1 min) |",
            "| --- | ---: | ---: | ---: | ---: |",
            *(
                f"| {t.label} | {args.structures} | {t.seconds:.1f} "
                f"| {t.seconds / args.structures:.2f} | {t.load_after.split(',')[0]} |"
                for t in timings
            ),
        ]
    )
    left = args.structures - failure.migrated_after_failure
    outcome = (
        f"**A migration failing in one structure.** With `{' '.join(failure.options)}`, the "
        f"migration failed in `{failure.blocked}` after {failure.failed_run_s:.1f} s and the "
        f"command exited with status {failure.exit_status}. "
        f"{failure.migrated_after_failure} of {args.structures} schemas had recorded it, so "
        f"{left} {'was' if left == 1 else 'were'} left for the rerun. "
        f"{failure.serving_after_failure} of "
        f"{args.structures} structures, the failing one included, served their file list with "
        f"the running version's code. After the cause was removed, the same command migrated "
        f"the rest in {failure.rerun_s:.1f} s: {failure.migrated_after_rerun} of "
        f"{args.structures} schemas recorded the migration, and "
        f"{failure.serving_after_rerun} served their file list."
    )
    return "\n\n".join(
        [
            SECTION_TITLE,
            METHOD,
            "### Figures",
            f"Command, from the repository root:\n\n    {command}",
            wrap(machine_sentence(facts)),
            wrap(f"{args.structures} structures provisioned in {prepare_s:.0f} s."),
            table,
            wrap(outcome),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.provision:
        provision(args.provision)
        return
    if args.serving_check:
        serving_check()
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with private_cluster() as cluster, tempfile.TemporaryDirectory(prefix="suivi-migr-") as folder:
        facts = machine_facts(cluster.url)
        prepare_s, timings, failure = run(cluster, args.structures, Path(folder))
    facts["load_after"] = load_average()
    for timing in timings:
        print(f"{timing.label}: {timing.seconds:.1f} s")
    print(failure)
    if not args.no_docs:
        command = shlex.join([".venv/bin/python", "-m", "benchmarks.migrations", *sys.argv[1:]])
        write_section(SECTION_TITLE, render(args, command, facts, prepare_s, timings, failure))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=bounded(2, MAX_STRUCTURES), default=50)
    parser.add_argument("--no-docs", action="store_true", help="Leave docs/benchmarks.md alone.")
    parser.add_argument("--provision", type=bounded(1, MAX_STRUCTURES), help=argparse.SUPPRESS)
    parser.add_argument("--serving-check", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
