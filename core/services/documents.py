"""Documents attached to beneficiary files: upload checks, storage per structure, access
rules and audit rows.

Other features build on two functions: ``add_document`` is the one way to store an upload, and
``documents_for`` returns the documents an agent may pick (interview and aid request forms).
"""

import functools
import logging
import posixpath
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.http import Http404
from django_tenants.utils import schema_context

from core.access import allows, scoped_items
from core.enums import DocumentTheme
from core.models import Agent, Beneficiary, Document
from core.roles import Action, Scope, scope
from core.services import audit
from core.services.beneficiaries import lock_open_file
from core.services.notifications import notify_new_document

logger = logging.getLogger(__name__)

BYTES_PER_MB = 1024 * 1024


@dataclass(frozen=True)
class FileFormat:
    """Accepted format: the content type sent on download, and the usual extensions. The first
    extension is appended to names that have none of them."""

    content_type: str
    extensions: tuple[str, ...]


PDF = FileFormat("application/pdf", ("pdf",))
JPEG = FileFormat("image/jpeg", ("jpg", "jpeg"))
PNG = FileFormat("image/png", ("png",))
GIF = FileFormat("image/gif", ("gif",))
WEBP = FileFormat("image/webp", ("webp",))
DOCX = FileFormat(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)
)
XLSX = FileFormat("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",))
ODT = FileFormat("application/vnd.oasis.opendocument.text", ("odt",))
ODS = FileFormat("application/vnd.oasis.opendocument.spreadsheet", ("ods",))
DOC = FileFormat("application/msword", ("doc",))
XLS = FileFormat("application/vnd.ms-excel", ("xls",))

# Formats that filetype recognises from their first bytes. SVG is left out on purpose, because
# it is XML that can carry scripts (filetype 1.2.0 does not detect it anyway).
_SIGNATURE_FORMATS = {fmt.content_type: fmt for fmt in (PDF, JPEG, PNG, GIF, WEBP)}
_ODF_FORMATS = {fmt.content_type: fmt for fmt in (ODT, ODS)}
# Main part types declared in an OOXML package's [Content_Types].xml.
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
_OOXML_MACRO_PARTS = (
    "application/vnd.ms-word.document.macroenabled.main+xml",
    "application/vnd.ms-excel.sheet.macroenabled.main+xml",
)
ZIP_SIGNATURE = b"PK\x03\x04"
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# filetype reads at most this many bytes to recognise a format.
_HEAD_SIZE = 8192
# Upper bound on what is decompressed from an archive entry while identifying it.
_MAX_ENTRY_READ = 1024 * 1024

ACCEPTED_FORMATS_TEXT = (
    "PDF, images (JPEG, PNG, GIF, WebP) et documents Word, Excel ou OpenDocument "
    "(docx, xlsx, odt, ods, doc, xls)"
)
# Extensions offered by the browser's file picker. The server checks the content itself.
ACCEPT_ATTRIBUTE = ",".join(
    f".{extension}"
    for fmt in (PDF, JPEG, PNG, GIF, WEBP, DOCX, XLSX, ODT, ODS, DOC, XLS)
    for extension in fmt.extensions
)
UNKNOWN_FORMAT_MESSAGE = (
    f"Ce format de document n'est pas accepté. Formats acceptés : {ACCEPTED_FORMATS_TEXT}. "
    "Enregistrez le document dans l'un de ces formats (par exemple en PDF) puis réessayez."
)
SVG_MESSAGE = (
    "Les images SVG ne sont pas acceptées, car elles peuvent contenir des scripts. "
    "Enregistrez l'image en PNG ou en JPEG puis réessayez."
)
MACRO_MESSAGE = (
    "Les documents contenant des macros ne sont pas acceptés. Enregistrez-le sans macros "
    "(en .docx, .xlsx ou en PDF) puis réessayez."
)
EMPTY_MESSAGE = "Le document est vide. Vérifiez le fichier choisi puis réessayez."


def max_size_bytes() -> int:
    return settings.DOCUMENT_MAX_SIZE_MB * BYTES_PER_MB


def too_large_message() -> str:
    return (
        f"Le document dépasse la taille maximale de {settings.DOCUMENT_MAX_SIZE_MB} Mo. "
        "Réduisez-le (PDF compressé, photo moins lourde) puis réessayez."
    )


# Upload checks


def check_upload(uploaded_file: UploadedFile) -> FileFormat:
    """Return the format of ``uploaded_file`` read from its content, never from its name
    (except to tell a legacy .doc from a .xls, see ``_legacy_office_format``).

    Raises ValidationError, with a French message saying what to do, when the file is empty,
    too large or of a format that is not accepted.
    """
    if not uploaded_file.size:
        raise ValidationError(EMPTY_MESSAGE, code="empty")
    if uploaded_file.size > max_size_bytes():
        raise ValidationError(too_large_message(), code="too_large")

    uploaded_file.seek(0)
    head = uploaded_file.read(_HEAD_SIZE)
    uploaded_file.seek(0)

    if head.startswith(ZIP_SIGNATURE):
        file_format = _zipped_office_format(uploaded_file)
    elif head.startswith(OLE2_SIGNATURE):
        file_format = _legacy_office_format(head, uploaded_file.name or "")
    else:
        guessed = filetype.guess(head)
        file_format = _SIGNATURE_FORMATS.get(guessed.mime) if guessed else None
    uploaded_file.seek(0)

    if file_format is None:
        if _looks_like_svg(head):
            raise ValidationError(SVG_MESSAGE, code="svg")
        raise ValidationError(UNKNOWN_FORMAT_MESSAGE, code="format")
    return file_format


def _zipped_office_format(uploaded_file: IO[bytes]) -> FileFormat | None:
    """Identify an ODF file by its ``mimetype`` entry and an OOXML one by the main part
    declared in ``[Content_Types].xml``. Any other zip archive is not accepted."""
    try:
        with zipfile.ZipFile(uploaded_file) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                declared = _read_entry(archive, "mimetype").strip()
                if any(name.startswith(("Basic/", "Scripts/")) for name in names):
                    raise ValidationError(MACRO_MESSAGE, code="macro")
                return _ODF_FORMATS.get(declared)
            if "[Content_Types].xml" in names:
                content_types = _read_entry(archive, "[Content_Types].xml").lower()
                has_macros = any(name.lower().endswith("vbaproject.bin") for name in names)
                if has_macros or any(part in content_types for part in _OOXML_MACRO_PARTS):
                    raise ValidationError(MACRO_MESSAGE, code="macro")
                for main_part, file_format in _OOXML_MAIN_PARTS.items():
                    if main_part in content_types:
                        return file_format
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
        # A damaged archive, or one compressed with a method Python cannot read.
        return None
    return None


def _read_entry(archive: zipfile.ZipFile, name: str) -> str:
    with archive.open(name) as entry:
        return entry.read(_MAX_ENTRY_READ).decode("utf-8", errors="replace")


def _legacy_office_format(head: bytes, original_name: str) -> FileFormat | None:
    """Identify a Word 97-2003 or Excel 97-2003 file (an OLE2 compound file).

    filetype recognises the usual layouts; for other layouts of an OLE2 file the name's
    extension decides between .doc and .xls.
    """
    # NOTE: .ppt, .msg and .msi files are OLE2 files too. Such a file named .doc or .xls is
    # accepted as one, and keeps that extension on download, so it cannot run as an installer.
    for file_format in (DOC, XLS):
        matcher = filetype.get_type(mime=file_format.content_type)
        if matcher is not None and matcher.match(head):
            return file_format
    extension = _extension(original_name).lower()
    return {"doc": DOC, "xls": XLS}.get(extension)


def _looks_like_svg(head: bytes) -> bool:
    return b"<svg" in head.lower()


# File names

# Characters that Windows rejects in file names, replaced so that downloads save everywhere.
_RESERVED_CHARACTERS = re.compile(r'[<>:"|?*]')
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
MAX_NAME_LENGTH = Document._meta.get_field("name").max_length or 255


def clean_file_name(original_name: str, file_format: FileFormat) -> str:
    """Return the name shown and used on download: no folders, no control or bidirectional
    characters, and an extension that matches the format read from the content.

    An extension that does not match is kept in the name and the right one is appended
    (``facture.exe`` holding a PDF becomes ``facture.exe.pdf``).
    """
    name = unicodedata.normalize("NFC", original_name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        character
        for character in name
        if unicodedata.category(character) not in _INVISIBLE_CATEGORIES
    )
    name = _RESERVED_CHARACTERS.sub("_", name)
    name = " ".join(name.split()).strip(". ")

    extension = _extension(name)
    if extension.lower() in file_format.extensions:
        stem = name[: -len(extension) - 1].rstrip(". ")
    else:
        stem, extension = name, file_format.extensions[0]
    stem = stem or "document"
    return f"{stem[: MAX_NAME_LENGTH - len(extension) - 1]}.{extension}"


def _extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return extension if dot and stem else ""


# Access


def reads_all_confidential(agent: Agent) -> bool:
    """Return whether ``agent`` may read every confidential document of the files they reach,
    which roles with full access to the whole structure may. Others read only their own."""
    return scope(agent, Action.VIEW_FULL_INFO) is Scope.ALL


def documents_for(agent: Agent, beneficiary: Beneficiary) -> QuerySet[Document]:
    """Return the documents of ``beneficiary`` that ``agent`` may see and download.

    Confidential documents are left out unless the agent added them or has full access.
    """
    documents = scoped_items(
        agent, Action.VIEW_DOCUMENTS, Document.objects.filter(beneficiary=beneficiary)
    )
    if not reads_all_confidential(agent):
        documents = documents.filter(Q(is_confidential=False) | Q(created_by=agent))
    return documents.select_related("created_by")


def get_document_for(
    agent: Agent,
    beneficiary: Beneficiary,
    document_id: int,
    action: Action = Action.VIEW_DOCUMENTS,
) -> Document:
    """Return the document if ``agent`` may see it and perform ``action`` on it.

    A missing document, one of another file and a forbidden one all raise Http404.
    """
    document = documents_for(agent, beneficiary).filter(pk=document_id).first()
    if document is not None:
        # Reuses the referents the caller already read for this file.
        document.beneficiary = beneficiary
    if document is None or not allows(agent, action, document):
        raise Http404("Document introuvable.")
    return document


# Changes


def _audit_values(document: Document) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": document.kind,
        "themes": list(document.themes),
        "is_confidential": document.is_confidential,
        "content_type": document.content_type,
        "size": document.size,
    }
    # Every agent who opens the file reads its history, and the name of a confidential
    # document can reveal its subject.
    if not document.is_confidential:
        values["name"] = document.name
    return values


def _ordered_themes(themes: Iterable[str]) -> list[str]:
    chosen = set(themes)
    return [value for value in DocumentTheme.values if value in chosen]


def add_document(
    actor: Agent,
    beneficiary: Beneficiary,
    uploaded_file: UploadedFile,
    kind: str,
    themes: Iterable[str],
    is_confidential: bool,
) -> Document:
    """Check ``uploaded_file``, store it under a random key and record the document and its
    audit row.

    Raises ValidationError when the file is rejected (see ``check_upload``), AlreadyArchived
    when the beneficiary's file is archived. The caller checks that ``actor`` may add a document
    to this file.
    """
    file_format = check_upload(uploaded_file)
    document = Document(
        beneficiary=beneficiary,
        kind=kind,
        themes=_ordered_themes(themes),
        is_confidential=is_confidential,
        name=clean_file_name(uploaded_file.name or "", file_format),
        content_type=file_format.content_type,
        size=uploaded_file.size,
        storage_key=secrets.token_hex(16),
        created_by=actor,
    )
    # The storage path comes from ``document_path``: the structure's schema, the file's id
    # and the random key, never the original name.
    document.file.save(document.storage_key, uploaded_file, save=False)
    try:
        with transaction.atomic():
            lock_open_file(beneficiary.pk)
            document.save()
            audit.record(
                actor,
                "add_document",
                document,
                _audit_values(document),
                beneficiary_id=beneficiary.pk,
            )
            notify_new_document(document)
    except Exception:
        document.file.storage.delete(document.file.name)
        raise
    logger.info(
        "Document %s added to beneficiary %s by agent %s", document.pk, beneficiary.pk, actor.pk
    )
    return document


def update_document(
    actor: Agent, document: Document, kind: str, themes: Iterable[str], is_confidential: bool
) -> Document:
    """Change the type, themes and confidentiality of ``document``. Its file is kept as is.

    Raises AlreadyArchived when the beneficiary's file is archived.
    """
    with transaction.atomic():
        lock_open_file(document.beneficiary_id)
        before = _audit_values(document)
        document.kind = kind
        document.themes = _ordered_themes(themes)
        document.is_confidential = is_confidential
        document.save(update_fields=["kind", "themes", "is_confidential"])
        changes = audit.diff(before, _audit_values(document))
        if changes:
            audit.record(
                actor,
                "update_document",
                document,
                changes,
                beneficiary_id=document.beneficiary_id,
            )
    return document


def delete_document(actor: Agent, document: Document) -> None:
    """Delete ``document`` and record it. The stored file is deleted once the transaction
    commits, so a rollback never leaves a document without its file. Raises AlreadyArchived
    when the beneficiary's file is archived."""
    storage = document.file.storage
    stored_name = document.file.name
    schema_name = connection.schema_name
    with transaction.atomic():
        lock_open_file(document.beneficiary_id)
        audit.record(
            actor,
            "delete_document",
            document,
            _audit_values(document),
            beneficiary_id=document.beneficiary_id,
        )
        document_id = document.pk
        document.delete()
        transaction.on_commit(lambda: _delete_stored_file(storage, stored_name, schema_name))
    logger.info("Document %s deleted by agent %s", document_id, actor.pk)


def delete_stored_files_on_commit(files: Iterable[FieldFile]) -> None:
    """Delete the stored ``files`` (of documents, of commission minutes) once the current
    transaction commits; the caller deletes or updates the rows."""
    schema_name = connection.schema_name
    for stored in files:
        storage, stored_name = stored.storage, stored.name
        transaction.on_commit(
            functools.partial(_delete_stored_file, storage, stored_name, schema_name)
        )


def _delete_stored_file(storage: Any, stored_name: str, schema_name: str) -> None:
    # Both storages build each structure's folder from the connection's schema.
    with schema_context(schema_name):
        try:
            storage.delete(stored_name)
        except Exception:
            # The row is already deleted, so the file is left behind and the log names it.
            logger.exception(
                "Could not delete stored file %s of schema %s", stored_name, schema_name
            )


def open_for_download(actor: Agent, document: Document) -> IO[bytes]:
    """Open the stored file of ``document`` for reading and record the download.

    Raises FileNotFoundError when the storage no longer has the file.
    """
    stored = document.file.open("rb")
    audit.record(actor, "download_document", document, {}, beneficiary_id=document.beneficiary_id)
    return stored


# Storage


@functools.cache
def _tenant_s3_storage_class() -> type:
    from storages.backends.s3 import S3Storage
    from storages.utils import safe_join

    class TenantS3Storage(S3Storage):
        """S3-compatible storage that keeps each structure's files under its schema's name,
        as django-tenants' TenantFileSystemStorage does on disk
        (``<location>/<schema>/documents/...``)."""

        def _normalize_name(self, name: str) -> str:
            tenant_root = posixpath.join(self.location, connection.schema_name)
            try:
                return safe_join(tenant_root, name)
            except ValueError:
                raise SuspiciousOperation(f"Attempted access to {name!r} denied.") from None

    TenantS3Storage.__module__ = __name__
    return TenantS3Storage


def __getattr__(name: str) -> Any:
    # ``TenantS3Storage`` is built on first use: importing boto3 took 0.9 s on a 2-core
    # development machine, a cost that deployments storing files on disk need not pay.
    if name == "TenantS3Storage":
        return _tenant_s3_storage_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
