"""Exporting a whole structure as one ZIP archive in open formats.

The archive holds:

- ``manifeste.json``: the format version, the structure's public-schema details and sign-in
  directory, the export date, the migrations applied to its schema, and per table its file,
  row count, primary key, columns with their PostgreSQL types and a SHA-256 checksum; per
  stored file its path, size and checksum;
- ``tables/<table>.csv``: one file per table of the structure's schema, in PostgreSQL's CSV
  format (UTF-8, a header row, columns in table order, rows ordered by primary key; an unquoted
  empty value is NULL and ``""`` an empty text);
- ``fichiers/<path>``: every file of the structure's storage (documents, commission minutes);
- ``documentation.md``: each table and column described in French for the people who read it.

``tenants.structure_restore`` loads the same archive into a new structure. Tables are read and
written with raw SQL on schema-qualified names, so this app never imports the tenant models.
"""

import graphlib
import hashlib
import json
import logging
import posixpath
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from django_tenants.utils import tenant_context
from psycopg import sql

from tenants.models import NationalAuditEvent, NationalUser, Structure
from tenants.structure_archive_docs import build_documentation

logger = logging.getLogger(__name__)

FORMAT_NAME = "suivi-social-structure"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifeste.json"
DOCUMENTATION_NAME = "documentation.md"
TABLES_FOLDER = "tables/"
FILES_FOLDER = "fichiers/"
# Tables of a structure's schema that the archive leaves out, with the reason shown in its
# documentation. The migrations applied are listed in the manifest instead of django_migrations.
EXCLUDED_TABLES = {
    "django_migrations": "remplacée par la liste « migrations » du manifeste",
    "django_session": "sessions de connexion en cours : ce sont des secrets, et les agents se "
    "reconnectent après une restauration",
}
STRUCTURE_FIELDS = [
    "slug",
    "name",
    "kind",
    "sirets",
    "insee_code",
    "epci_siren",
    "address",
    "phone",
    "email",
]
_CHUNK_SIZE = 1024 * 1024


class ArchiveError(Exception):
    """An archive or a target that cannot be used. Its message is in French, for the national
    team, and states what to do next."""


@dataclass(frozen=True)
class ExportSummary:
    tables: int
    rows: int
    files: int
    size: int
    sha256: str


# Schema introspection, shared with the restore


def qualified(schema: str, table: str) -> str:
    """Return the schema-qualified, quoted name of ``table``, as a text value for ``regclass``
    and ``pg_get_serial_sequence``."""
    return sql.Identifier(schema, table).as_string()


def schema_tables(cursor: CursorWrapper, schema: str) -> list[str]:
    """Return the names of the ordinary tables of ``schema`` that the archive carries."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
        [schema],
    )
    return [name for (name,) in cursor.fetchall() if name not in EXCLUDED_TABLES]


def table_columns(cursor: CursorWrapper, schema: str, table: str) -> list[dict[str, Any]]:
    """Return the columns of ``table`` in their table order, with their PostgreSQL types."""
    cursor.execute(
        "SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [qualified(schema, table)],
    )
    return [
        {"name": name, "type": type_name, "nullable": not not_null}
        for name, type_name, not_null in cursor.fetchall()
    ]


def primary_key(cursor: CursorWrapper, schema: str, table: str) -> list[str]:
    cursor.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        [qualified(schema, table)],
    )
    return [name for (name,) in cursor.fetchall()]


def tables_in_dependency_order(cursor: CursorWrapper, schema: str) -> list[str]:
    """Return the archived tables of ``schema`` so that each comes after those it references.

    A cycle of foreign keys falls back to name order: the loading transaction defers the
    constraints (Django creates them ``DEFERRABLE INITIALLY DEFERRED``) anyway.
    """
    tables = schema_tables(cursor, schema)
    cursor.execute(
        "SELECT src.relname, dst.relname FROM pg_constraint c "
        "JOIN pg_class src ON src.oid = c.conrelid JOIN pg_class dst ON dst.oid = c.confrelid "
        "JOIN pg_namespace n ON n.oid = src.relnamespace "
        "WHERE c.contype = 'f' AND n.nspname = %s ORDER BY 1, 2",
        [schema],
    )
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for table in tables:
        sorter.add(table)
    for source, target in cursor.fetchall():
        if source != target and source in tables and target in tables:
            sorter.add(source, target)
    try:
        return list(sorter.static_order())
    except graphlib.CycleError:
        return tables


def applied_migrations(cursor: CursorWrapper, schema: str) -> list[str]:
    cursor.execute(
        sql.SQL("SELECT app, name FROM {} ORDER BY app, name").format(
            sql.Identifier(schema, "django_migrations")
        )
    )
    return [f"{app}.{name}" for app, name in cursor.fetchall()]


def stored_files(storage: Any, folder: str = "") -> Iterator[str]:
    """Yield the path of every file under ``folder`` of the current structure's storage."""
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield posixpath.join(folder, name)
    for name in sorted(directories):
        yield from stored_files(storage, posixpath.join(folder, name))


# Export


def export_structure(
    structure: Structure, destination: IO[bytes], actor: NationalUser | None = None
) -> ExportSummary:
    """Write the archive of ``structure`` to ``destination`` and record the export.

    The tables are read in one snapshot when the caller is not already in a transaction, so
    an agent's change during the export cannot leave a row pointing at a missing one.
    """
    started = time.monotonic()
    hashing = _HashingWriter(destination)
    with tenant_context(structure):
        # Setting the search path is the tenant cursor's first query. It runs here, before the
        # transaction, so that the isolation level is the transaction's first statement.
        connection.cursor().close()
        isolate = not connection.in_atomic_block
        with transaction.atomic(), connection.cursor() as cursor:
            if isolate:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            manifest = _write_archive(structure, cursor, hashing)

    summary = ExportSummary(
        tables=len(manifest["tables"]),
        rows=sum(table["rows"] for table in manifest["tables"]),
        files=len(manifest["files"]),
        size=hashing.size,
        sha256=hashing.sha256.hexdigest(),
    )
    NationalAuditEvent.record(
        actor,
        NationalAuditEvent.Action.EXPORT,
        structure,
        {
            "tables": summary.tables,
            "rows": summary.rows,
            "files": summary.files,
            "size": summary.size,
            "sha256": summary.sha256,
        },
    )
    logger.info(
        "Exported structure %s: %d tables, %d rows, %d files, %d bytes in %.2f s",
        structure.schema_name,
        summary.tables,
        summary.rows,
        summary.files,
        summary.size,
        time.monotonic() - started,
    )
    return summary


def _write_archive(
    structure: Structure, cursor: CursorWrapper, destination: IO[bytes]
) -> dict[str, Any]:
    schema = structure.schema_name
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "structure": {name: getattr(structure, name) for name in STRUCTURE_FIELDS},
        "directory": [
            {"email": entry.email, "is_active": entry.is_active}
            for entry in structure.directory.order_by("email")
        ],
        "migrations": applied_migrations(cursor, schema),
        "excluded_tables": EXCLUDED_TABLES,
        "tables": [],
        "files": [],
    }
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for table in schema_tables(cursor, schema):
            manifest["tables"].append(_write_table(cursor, schema, table, archive))
        for path in stored_files(default_storage):
            manifest["files"].append(_write_stored_file(path, archive))
        archive.writestr(
            DOCUMENTATION_NAME, build_documentation(manifest).encode(), zipfile.ZIP_DEFLATED
        )
        archive.writestr(
            MANIFEST_NAME,
            json.dumps(manifest, ensure_ascii=False, indent=2).encode(),
            zipfile.ZIP_DEFLATED,
        )
    return manifest


def _write_table(cursor: CursorWrapper, schema: str, table: str, archive: Any) -> dict[str, Any]:
    columns = table_columns(cursor, schema, table)
    key = primary_key(cursor, schema, table) or [column["name"] for column in columns]
    name = sql.Identifier(schema, table)
    cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(name))
    (rows,) = cursor.fetchone()

    file_name = f"{TABLES_FOLDER}{table}.csv"
    digest = hashlib.sha256()
    copy_sql = sql.SQL(
        "COPY (SELECT * FROM {} ORDER BY {}) TO STDOUT WITH (FORMAT csv, HEADER true, "
        "ENCODING 'UTF8')"
    ).format(name, sql.SQL(", ").join(map(sql.Identifier, key)))
    with archive.open(file_name, "w", force_zip64=True) as output, cursor.copy(copy_sql) as copy:
        for chunk in copy:
            data = bytes(chunk)
            digest.update(data)
            output.write(data)
    return {
        "name": table,
        "file": file_name,
        "rows": rows,
        "primary_key": key,
        "columns": columns,
        "sha256": digest.hexdigest(),
    }


def _write_stored_file(path: str, archive: Any) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with default_storage.open(path, "rb") as source:
        with archive.open(f"{FILES_FOLDER}{path}", "w", force_zip64=True) as output:
            while chunk := source.read(_CHUNK_SIZE):
                digest.update(chunk)
                size += len(chunk)
                output.write(chunk)
    return {"path": path, "size": size, "sha256": digest.hexdigest()}


class _HashingWriter:
    """A write-only stream that passes bytes on and keeps their size and SHA-256.

    It cannot seek, so ZipFile writes a data descriptor after each entry instead of seeking
    back to patch the entry's header.
    """

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.target.write(data)

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        self.target.flush()

    def seekable(self) -> bool:
        return False
