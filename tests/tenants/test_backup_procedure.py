"""The backup and restore procedure of docs/sauvegarde-restauration.md, run as written.

Each ``sh`` block of the page that starts with ``# étape : <name>`` is run with bash and the
system's PostgreSQL tools against the test database server. pg_dump reads committed rows only,
so the structure here is committed, outside the usual per-test transaction, and removed at
the end.
"""

import glob
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django_tenants.utils import tenant_context
from psycopg import sql

from core.models import Beneficiary
from tenants.models import DirectoryEntry, Structure
from tenants.provisioning import ManagerData, StructureData, provision_structure

PROCEDURE = Path(settings.BASE_DIR) / "docs" / "sauvegarde-restauration.md"
SLUG = "sauvegarde"
SCHEMA = "sauvegarde"
STORED_PATH = "documents/1/cle-du-fichier"
STORED_BYTES = b"%PDF-1.4\n% justificatif sauvegarde\n%%EOF\n"
NAMES = ["Élodie", "Noël"]


def _steps() -> dict[str, str]:
    """Return the page's command blocks by step name."""
    blocks = re.findall(r"```sh\n(.*?)```", PROCEDURE.read_text(), flags=re.DOTALL)
    steps = {}
    for block in blocks:
        match = re.match(r"# étape : (.+)\n", block)
        if match:
            steps[match.group(1).strip()] = block
    return steps


def _postgres_bin() -> str:
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2])
    )
    if not folders or not os.path.exists(f"{folders[-1]}/pg_restore"):
        pytest.skip("PostgreSQL client tools not found under /usr/lib/postgresql/*/bin")
    return folders[-1]


def _url(database: str) -> str:
    values = connection.settings_dict
    password = f":{values['PASSWORD']}" if values["PASSWORD"] else ""
    return (
        f"postgres://{values['USER']}{password}@{values['HOST'] or '127.0.0.1'}:"
        f"{values['PORT'] or 5432}/{database}"
    )


def _run(step: str, **variables: str) -> None:
    env = {
        **os.environ,
        **variables,
        "PATH": f"{_postgres_bin()}:{Path(sys.executable).parent}:{os.environ['PATH']}",
        "SLUG": SLUG,
        "SCHEMA": SCHEMA,
        "DATABASE_URL": _url(connection.settings_dict["NAME"]),
    }
    result = subprocess.run(  # noqa: S603
        ["bash", "-euo", "pipefail", "-c", _steps()[step]],  # noqa: S607
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"step {step!r} failed:\n{result.stderr}"


def _drop_everything(cursor) -> None:
    for schema in (SCHEMA, f"{SCHEMA}_avant_restauration"):
        cursor.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
    Structure.objects.filter(slug=SLUG).delete()


@pytest.fixture
def committed(django_db_setup, django_db_blocker, tmp_path) -> Iterator[Structure]:
    """A committed structure with two files and a stored document; removed afterwards."""
    with django_db_blocker.unblock():
        try:
            structure, _ = provision_structure(
                StructureData(
                    slug=SLUG,
                    name="CCAS de Sauvegarde",
                    kind=Structure.Kind.CCAS,
                    address="1 place de la Mairie",
                    sirets=["21710014600019"],
                    insee_code="71014",
                ),
                ManagerData("responsable@sauvegarde.test", "Rose", "Responsable"),
                send_invitation=False,
            )
            with tenant_context(structure):
                for number, name in enumerate(NAMES):
                    Beneficiary.objects.create(
                        first_names=name, usual_name="Dupré", file_number=f"SAUV{number}"
                    )
                default_storage.save(STORED_PATH, ContentFile(STORED_BYTES))
            connection.set_schema_to_public()
            yield structure
        finally:
            connection.set_schema_to_public()
            with connection.cursor() as cursor:
                _drop_everything(cursor)


def test_step_names_match_the_page(db):
    assert set(_steps()) == {
        "sauvegarde",
        "restauration dans la même base",
        "restauration dans une nouvelle base",
    }


def test_restore_in_same_database(committed, django_db_blocker, tmp_path):
    backup = tmp_path / "sauvegarde"
    _run("sauvegarde", BACKUP_DIR=str(backup), MEDIA_ROOT=settings.MEDIA_ROOT)
    with django_db_blocker.unblock(), tenant_context(committed):
        # The incident: every file deleted, and a stored document lost.
        Beneficiary.objects.all().delete()
        default_storage.delete(STORED_PATH)

    _run("restauration dans la même base", BACKUP_DIR=str(backup), MEDIA_ROOT=settings.MEDIA_ROOT)

    with django_db_blocker.unblock(), tenant_context(committed):
        names = sorted(Beneficiary.objects.values_list("first_names", flat=True))
        with default_storage.open(STORED_PATH) as stored:
            content = stored.read()
    assert names == sorted(NAMES)
    assert content == STORED_BYTES


def test_restore_in_new_database(committed, django_db_blocker, tmp_path):
    backup = tmp_path / "sauvegarde"
    new_media = tmp_path / "nouveau-media"
    new_database = f"{connection.settings_dict['NAME']}_restauration"
    _run("sauvegarde", BACKUP_DIR=str(backup), MEDIA_ROOT=settings.MEDIA_ROOT)
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = sql.Identifier(new_database)
        cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(name))

    try:
        _run(
            "restauration dans une nouvelle base",
            BACKUP_DIR=str(backup),
            NEW_DATABASE_URL=_url(new_database),
            NEW_MEDIA_ROOT=str(new_media),
        )
        with psycopg.connect(_url(new_database)) as restored:
            names = restored.execute(
                "SELECT first_names FROM sauvegarde.core_beneficiary ORDER BY first_names"
            ).fetchall()
            structure = restored.execute(
                "SELECT s.slug, s.status, d.domain FROM tenants_structure s "
                "JOIN tenants_domain d ON d.tenant_id = s.id"
            ).fetchall()
            directory = restored.execute(
                "SELECT email FROM tenants_directoryentry ORDER BY email"
            ).fetchall()
            next_id = restored.execute(
                "SELECT nextval(pg_get_serial_sequence('tenants_structure', 'id'))"
            ).fetchone()[0]
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(new_database)
                )
            )

    assert [row[0] for row in names] == sorted(NAMES)
    assert structure == [(SLUG, "active", "sauvegarde.localhost")]
    with django_db_blocker.unblock():
        expected = sorted(
            DirectoryEntry.objects.filter(structure=committed).values_list("email", flat=True)
        )
    assert [row[0] for row in directory] == expected
    assert next_id > committed.pk
    assert (new_media / SCHEMA / STORED_PATH).read_bytes() == STORED_BYTES
