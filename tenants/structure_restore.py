"""Restoring a structure's archive (see ``tenants.structure_archive``) into a new structure.

Everything is checked before anything is written: the format version, every checksum, the
safety of every path. Then one transaction provisions the structure, checks that its schema
has the archive's migrations and tables and that it is empty, loads every table in dependency
order, resets the identity sequences and recreates the sign-in directory. The stored files
are copied inside that transaction and deleted again if it fails, so a failed restore leaves
nothing behind.
"""

import csv
import hashlib
import json
import logging
import re
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django_tenants.utils import schema_context, tenant_context
from psycopg import sql

from tenants.models import DirectoryEntry, NationalAuditEvent, NationalUser, Structure
from tenants.provisioning import StructureData, provision_structure
from tenants.structure_archive import (
    FILES_FOLDER,
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST_NAME,
    STRUCTURE_FIELDS,
    TABLES_FOLDER,
    ArchiveError,
    applied_migrations,
    qualified,
    schema_tables,
    stored_files,
    table_columns,
    tables_in_dependency_order,
)

logger = logging.getLogger(__name__)

_CHUNK_SIZE = 1024 * 1024
_SAFE_PATH = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
# Names an error message lists before it gives the count of the others.
_LISTED_NAMES = 5


@dataclass(frozen=True)
class RestoreSummary:
    structure: Structure
    tables: int
    rows: int
    files: int


def restore_structure(
    source: str | Path | IO[bytes],
    slug: str,
    name: str | None = None,
    actor: NationalUser | None = None,
) -> RestoreSummary:
    """Restore the archive ``source`` into a new structure ``slug``, left suspended.

    Raises ArchiveError, with a French message, when the archive or the target cannot be used;
    nothing is then created.
    """
    started = time.monotonic()
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(
            "Ce fichier n'est pas une archive ZIP lisible. Choisissez l'archive produite par "
            "l'export d'une structure."
        ) from error

    with archive:
        manifest = read_manifest(archive)
        _check_checksums(archive, manifest)
        data = _structure_data(manifest, slug, name)
        saved_files: list[str] = []
        schema_name = ""
        try:
            with transaction.atomic():
                structure = _target_structure(data)
                schema_name = structure.schema_name
                rows = _load_tables(structure, manifest, archive)
                _restore_directory(structure, manifest)
                structure.status = Structure.Status.SUSPENDED
                structure.save(update_fields=["status"])
                NationalAuditEvent.record(
                    actor,
                    NationalAuditEvent.Action.RESTORE,
                    structure,
                    {
                        "source_slug": manifest["structure"]["slug"],
                        "exported_at": manifest["exported_at"],
                        "rows": rows,
                        "files": len(manifest["files"]),
                    },
                )
                with tenant_context(structure):
                    _restore_files(archive, manifest, saved_files)
        except Exception:
            _delete_files(schema_name, saved_files)
            raise

    logger.info(
        "Restored structure %s from an export of %s: %d rows, %d files in %.2f s",
        structure.schema_name,
        manifest["structure"]["slug"],
        rows,
        len(saved_files),
        time.monotonic() - started,
    )
    return RestoreSummary(structure, len(manifest["tables"]), rows, len(saved_files))


# Checks made before anything is written


def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    """Return the archive's manifest once its format, version and shape are checked."""
    try:
        manifest = json.loads(archive.read(MANIFEST_NAME).decode())
    except KeyError as error:
        raise ArchiveError(
            f"L'archive ne contient pas de fichier {MANIFEST_NAME}. Choisissez l'archive "
            "produite par l'export d'une structure, sans l'avoir décompressée et recompressée."
        ) from error
    except (UnicodeDecodeError, ValueError) as error:
        raise ArchiveError(
            f"Le fichier {MANIFEST_NAME} de l'archive est illisible. Exportez de nouveau la "
            "structure."
        ) from error

    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArchiveError(
            "Cette archive n'a pas été produite par l'export d'une structure de Suivi Social."
        )
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArchiveError(
            f"Cette archive est au format {version}, mais cette version de Suivi Social ne "
            f"restaure que le format {FORMAT_VERSION}. Restaurez-la avec la version qui l'a "
            "produite, ou exportez de nouveau la structure."
        )
    try:
        _check_shape(manifest)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ArchiveError(
            f"Le fichier {MANIFEST_NAME} de l'archive est incomplet. Exportez de nouveau la "
            "structure."
        ) from error
    return manifest


def _check_shape(manifest: dict[str, Any]) -> None:
    """Raise KeyError, TypeError or ValueError when a value the restore reads is missing."""
    for key in STRUCTURE_FIELDS:
        manifest["structure"][key]  # noqa: B018
    str(manifest["exported_at"])
    for entry in manifest["directory"]:
        str(entry["email"]), bool(entry["is_active"])
    for migration in manifest["migrations"]:
        if not isinstance(migration, str):
            raise TypeError("migration names are strings")
    for table in manifest["tables"]:
        if table["file"] != f"{TABLES_FOLDER}{table['name']}.csv":
            raise ValueError("unexpected table file name")
        int(table["rows"]), str(table["sha256"])
        for column in table["columns"]:
            str(column["name"]), str(column["type"])
    for entry in manifest["files"]:
        path = entry["path"]
        if not _SAFE_PATH.match(path) or ".." in path.split("/"):
            raise ValueError("unsafe file path")
        int(entry["size"]), str(entry["sha256"])


def _check_checksums(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    entries = [(table["file"], table["sha256"]) for table in manifest["tables"]]
    entries += [(FILES_FOLDER + entry["path"], entry["sha256"]) for entry in manifest["files"]]
    for name, expected in entries:
        digest = hashlib.sha256()
        try:
            with archive.open(name) as source:
                while chunk := source.read(_CHUNK_SIZE):
                    digest.update(chunk)
        except KeyError as error:
            raise ArchiveError(
                f"Le fichier « {name} » annoncé par le manifeste manque dans l'archive. "
                "Exportez de nouveau la structure."
            ) from error
        except (zipfile.BadZipFile, OSError) as error:
            raise ArchiveError(
                f"Le fichier « {name} » de l'archive est illisible ({error}). Exportez de "
                "nouveau la structure."
            ) from error
        if digest.hexdigest() != expected:
            raise ArchiveError(
                f"Le fichier « {name} » de l'archive a été modifié ou abîmé : sa somme de "
                "contrôle ne correspond pas à celle du manifeste. Exportez de nouveau la "
                "structure, puis restaurez la nouvelle archive sans la modifier."
            )


def _structure_data(manifest: dict[str, Any], slug: str, name: str | None) -> StructureData:
    values = {key: manifest["structure"][key] for key in STRUCTURE_FIELDS}
    values["slug"] = slug
    if name:
        values["name"] = name
    return StructureData(**values)


# The transaction


def _target_structure(data: StructureData) -> Structure:
    """Return the new structure, provisioned with an empty schema, or the existing one."""
    try:
        structure, _ = provision_structure(data, manager=None)
    except ValidationError as error:
        messages = [message for values in error.message_dict.values() for message in values]
        raise ArchiveError("La structure ne peut pas être créée : " + " ".join(messages)) from error
    return structure


def _load_tables(structure: Structure, manifest: dict[str, Any], archive: zipfile.ZipFile) -> int:
    """Load every table of ``manifest`` into the structure's schema; return the row count."""
    schema = structure.schema_name
    tables = {table["name"]: table for table in manifest["tables"]}
    rows = 0
    with connection.cursor() as cursor:
        _check_schema_matches(cursor, schema, manifest)
        _check_empty(cursor, structure, tables)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        order = tables_in_dependency_order(cursor, schema)
        for name in order:
            rows += _load_table(cursor, schema, tables[name], archive)
        for name in order:
            _reset_sequences(cursor, schema, name)
        try:
            # Foreign keys are checked here rather than at commit, so a broken archive gets a
            # message instead of a failed commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        except DatabaseError as error:
            raise ArchiveError(
                f"Les tables de l'archive ne sont pas cohérentes entre elles ({error}). "
                "Exportez de nouveau la structure."
            ) from error
    return rows


def _check_schema_matches(cursor: CursorWrapper, schema: str, manifest: dict[str, Any]) -> None:
    applied = applied_migrations(cursor, schema)
    if applied != manifest["migrations"]:
        missing_here = sorted(set(manifest["migrations"]) - set(applied))
        missing_there = sorted(set(applied) - set(manifest["migrations"]))
        raise ArchiveError(
            "L'archive a été produite par une autre version de Suivi Social, dont les tables "
            "ne sont pas les mêmes. Migrations absentes ici : "
            f"{_names(missing_here)} ; migrations absentes de l'archive : "
            f"{_names(missing_there)}. Restaurez-la avec la version qui l'a produite, ou "
            "exportez de nouveau la structure depuis la version actuelle."
        )

    tables = {table["name"]: table for table in manifest["tables"]}
    present = schema_tables(cursor, schema)
    if set(present) != set(tables):
        raise ArchiveError(
            "Les tables de l'archive ne correspondent pas à celles d'une structure : "
            f"tables en trop : {_names(sorted(set(tables) - set(present)))} ; tables "
            f"manquantes : {_names(sorted(set(present) - set(tables)))}. Exportez de nouveau "
            "la structure."
        )
    for name in present:
        expected = [(c["name"], c["type"]) for c in table_columns(cursor, schema, name)]
        archived = [(c["name"], c["type"]) for c in tables[name]["columns"]]
        if archived != expected:
            raise ArchiveError(
                f"Les colonnes de la table « {name} » de l'archive ne correspondent pas à "
                "celles de cette version de Suivi Social. Exportez de nouveau la structure."
            )


def _check_empty(cursor: CursorWrapper, structure: Structure, tables: dict[str, Any]) -> None:
    for name in sorted(tables):
        cursor.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
                sql.Identifier(structure.schema_name, name)
            )
        )
        (has_rows,) = cursor.fetchone()
        if has_rows:
            raise ArchiveError(
                f"La structure « {structure.slug} » n'est pas vide : sa table « {name} » "
                "contient déjà des données. Restaurez l'archive dans une nouvelle structure, "
                "avec un identifiant qui n'existe pas encore."
            )
    with tenant_context(structure):
        if next(stored_files(default_storage), None) is not None:
            raise ArchiveError(
                f"La structure « {structure.slug} » n'est pas vide : elle a déjà des fichiers "
                "déposés. Restaurez l'archive dans une nouvelle structure, avec un identifiant "
                "qui n'existe pas encore."
            )


def _load_table(
    cursor: CursorWrapper, schema: str, table: dict[str, Any], archive: zipfile.ZipFile
) -> int:
    names = [column["name"] for column in table["columns"]]
    identifier = sql.Identifier(schema, table["name"])
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')").format(
        identifier, sql.SQL(", ").join(map(sql.Identifier, names))
    )
    try:
        with archive.open(table["file"]) as source:
            header = next(csv.reader([source.readline().decode()]), [])
            if header != names:
                raise ArchiveError(
                    f"La première ligne du fichier « {table['file']} » ne donne pas les "
                    "colonnes annoncées par le manifeste. Exportez de nouveau la structure."
                )
            with cursor.copy(copy_sql) as copy:
                while chunk := source.read(_CHUNK_SIZE):
                    copy.write(chunk)
    except (psycopg.Error, DatabaseError, UnicodeDecodeError) as error:
        raise ArchiveError(
            f"Le fichier « {table['file']} » de l'archive n'a pas pu être chargé ({error}). "
            "Exportez de nouveau la structure."
        ) from error

    cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(identifier))
    (count,) = cursor.fetchone()
    if count != table["rows"]:
        raise ArchiveError(
            f"Le fichier « {table['file']} » contient {count} lignes, mais le manifeste en "
            f"annonce {table['rows']}. Exportez de nouveau la structure."
        )
    return int(count)


def _reset_sequences(cursor: CursorWrapper, schema: str, table: str) -> None:
    """Move each identity sequence of ``table`` past its largest loaded value."""
    name = qualified(schema, table)
    cursor.execute(
        "SELECT attname, pg_get_serial_sequence(%s, attname) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        [name, name],
    )
    for column, sequence in cursor.fetchall():
        if sequence is None:
            continue
        cursor.execute(
            sql.SQL(
                "SELECT setval(%s, COALESCE(MAX({0}), 1), MAX({0}) IS NOT NULL) FROM {1}"
            ).format(sql.Identifier(column), sql.Identifier(schema, table)),
            [sequence],
        )


def _restore_directory(structure: Structure, manifest: dict[str, Any]) -> None:
    for entry in manifest["directory"]:
        DirectoryEntry.objects.update_or_create(
            email=entry["email"],
            structure=structure,
            defaults={"is_active": bool(entry["is_active"])},
        )


def _restore_files(
    archive: zipfile.ZipFile, manifest: dict[str, Any], saved_files: list[str]
) -> None:
    """Copy the archive's files into the current structure's storage, listing each in
    ``saved_files`` so that a failure can delete them."""
    for entry in manifest["files"]:
        with archive.open(FILES_FOLDER + entry["path"]) as source:
            saved = default_storage.save(entry["path"], File(source, name=entry["path"]))
        saved_files.append(saved)
        if saved != entry["path"]:
            raise ArchiveError(
                f"Le fichier « {entry['path']} » existe déjà dans le stockage de la nouvelle "
                "structure. Restaurez l'archive dans une nouvelle structure, avec un "
                "identifiant qui n'a jamais servi."
            )


def _delete_files(schema_name: str, names: list[str]) -> None:
    if not names:
        return
    with schema_context(schema_name):
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("Could not delete restored file %s of %s", name, schema_name)


def _names(names: list[str]) -> str:
    if not names:
        return "aucune"
    listed = ", ".join(names[:_LISTED_NAMES])
    more = len(names) - _LISTED_NAMES
    return f"{listed} et {more} autre(s)" if more > 0 else listed
