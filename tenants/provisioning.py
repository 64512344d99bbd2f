"""Creating a structure: its row, its domain, its schema and its first manager, atomically.

A new schema is a copy of a template schema that was migrated once (PostgreSQL copies
tables, sequences and indexes in a fraction of a second), not a replay of every migration.
The template's name carries a hash of the tenant migrations, so a deployment that adds a
migration builds a fresh template on first use and drops the stale one.
"""

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils.module_loading import import_string
from django_tenants.clone import CloneSchema
from django_tenants.migration_executors.base import run_migrations
from django_tenants.utils import (
    app_labels,
    get_tenant_base_migrate_command_class,
    schema_exists,
)

from tenants.models import Domain, Structure

logger = logging.getLogger(__name__)

TEMPLATE_PREFIX = "_template_"
SPARE_PREFIX = "_spare_"
# Any fixed number works: it only has to be the same for every process of the platform.
_TEMPLATE_LOCK_ID = 804_221
_CLONE_LOCK_ID = 804_222


@dataclass
class StructureData:
    slug: str
    name: str
    kind: str
    address: str
    sirets: list[str] = field(default_factory=list)
    insee_code: str = ""
    epci_siren: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class ManagerData:
    email: str
    first_name: str
    last_name: str


def template_schema_name() -> str:
    """Return the name of the template schema matching the tenant migrations on disk."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    tenant_apps = set(app_labels(settings.TENANT_APPS))
    names = sorted(f"{app}.{name}" for app, name in loader.disk_migrations if app in tenant_apps)
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:12]
    return f"{TEMPLATE_PREFIX}{digest}"


def ensure_template_schema() -> str:
    """Build the template schema if the current migrations have none, and return its name."""
    name = template_schema_name()
    if schema_exists(name):
        return name

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_TEMPLATE_LOCK_ID])
    try:
        # Another process may have built it while this one waited for the lock.
        if not schema_exists(name):
            with transaction.atomic():
                _build_template_schema(name)
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_TEMPLATE_LOCK_ID])
    return name


def _build_template_schema(name: str) -> None:
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA "{name}"')
    # run_migrations hands the options to Django's migrate command, which needs all of them.
    parser = get_tenant_base_migrate_command_class()().create_parser("manage.py", "migrate")
    options = {**vars(parser.parse_args([])), "verbosity": 0, "interactive": False}
    run_migrations(args=[], options=options, executor_codename="template", schema_name=name)
    connection.set_schema_to_public()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s AND nspname <> %s",
            [TEMPLATE_PREFIX.replace("_", r"\_") + "%", name],
        )
        for (stale,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{stale}" CASCADE')
            logger.info("Dropped stale template schema %s", stale)
    logger.info("Built template schema %s in %.2f s", name, time.monotonic() - started)


def _spare_prefix(template: str) -> str:
    return f"{SPARE_PREFIX}{template.removeprefix(TEMPLATE_PREFIX)}_"


def _take_spare_schema(template: str) -> str | None:
    """Return a spare copy of ``template``, if one is ready; the caller holds the clone lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) "
            "ORDER BY nspname LIMIT 1",
            [_spare_prefix(template)],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def prepare_spare_schemas(count: int) -> int:
    """Clone the template ahead of time so that provisioning only renames a schema.

    Keeps ``count`` spares of the current template, drops those of stale templates, and
    returns how many were created. Run at deployment and after provisioning, outside requests.
    """
    template = ensure_template_schema()
    prefix = _spare_prefix(template)
    created = 0
    # One transaction per dropped or cloned schema: a clone locks every object it copies, and
    # PostgreSQL's lock table (max_locks_per_transaction) cannot hold many clones at once.
    while True:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLONE_LOCK_ID])
                cursor.execute(
                    "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)",
                    [SPARE_PREFIX],
                )
                spares = [name for (name,) in cursor.fetchall()]
                stale = [name for name in spares if not name.startswith(prefix)]
                if stale:
                    cursor.execute(f'DROP SCHEMA "{stale[0]}" CASCADE')
                    continue
            if len(spares) >= count:
                break
            CloneSchema().clone_schema(template, f"{prefix}{secrets.token_hex(4)}", "DATA")
            created += 1
    connection.set_schema_to_public()
    logger.info("Prepared %s spare schemas", created)
    return created


def schema_name_for(slug: str) -> str:
    return slug.replace("-", "_")


def provision_structure(
    data: StructureData,
    manager: ManagerData | None,
    actor: Any = None,
    send_invitation: bool = True,
) -> tuple[Structure, bool]:
    """Create the structure and invite its manager; return it and whether it was created.

    Idempotent: a slug that already exists returns that structure unchanged, and its manager
    is invited if they were not yet. Any failure rolls everything back: no row, no domain, no
    schema and no directory entry is left behind. With no ``manager``, the new schema is left
    empty (no catalogue, no agent), ready for a restored archive.
    """
    existing = Structure.objects.filter(slug=data.slug).first()
    if existing is not None:
        if manager is not None:
            _in_structure(existing, actor, manager, seed=False, send_invitation=send_invitation)
        return existing, False

    template = ensure_template_schema()
    started = time.monotonic()
    with transaction.atomic():
        structure = Structure(
            schema_name=schema_name_for(data.slug),
            status=Structure.Status.PROVISIONING,
            **data.__dict__,
        )
        structure.full_clean()
        structure.save()
        Domain.objects.create(domain=structure.host, tenant=structure, is_primary=True)
        # django-tenants recreates helper objects in the public schema on every clone: two
        # clones at once would collide on them, so they take turns.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CLONE_LOCK_ID])
        spare = _take_spare_schema(template)
        if spare:
            # A spare copy of the template, made ahead of time: renaming it is instant.
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER SCHEMA "{spare}" RENAME TO "{structure.schema_name}"')
        else:
            CloneSchema().clone_schema(template, structure.schema_name, "DATA")
        if manager is not None:
            _in_structure(structure, actor, manager, seed=True, send_invitation=send_invitation)
        structure.status = Structure.Status.ACTIVE
        structure.save(update_fields=["status"])
    logger.info(
        "Provisioned structure %s in %.3f s", structure.schema_name, time.monotonic() - started
    )
    return structure, True


def _setup_hook() -> Any:
    # The structure-side setup lives in the core app, which this app never imports directly.
    return import_string(settings.STRUCTURE_SETUP_FUNCTION)


def _in_structure(
    structure: Structure, actor: Any, manager: ManagerData, seed: bool, send_invitation: bool
) -> None:
    previous = connection.tenant
    connection.set_tenant(structure)
    try:
        _setup_hook()(actor=actor, manager=manager, seed=seed, send_invitation=send_invitation)
    finally:
        connection.set_tenant(previous)
