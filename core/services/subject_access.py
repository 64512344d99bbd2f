"""The right of access (GDPR article 15): everything the structure stores about one person.

``subject_access_data`` builds one dictionary of JSON values, with stable English keys, French
labels and French displayed values. The JSON file is that dictionary as it is, and the PDF
(``core.subject_access_pdf``) only lays out its labels and displayed values, so the two formats
cannot disagree. docs/subject-access-export.md describes the shape.

Left out on purpose: the stored document files (the export lists them), the private syntheses
unless the manager requests them, and the social security number unless it is requested.
"""

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.text import capfirst

from core.enums import Role
from core.forms.beneficiaries import FIELDSETS, FULL_FIELDSETS
from core.history import present
from core.models import (
    Agent,
    AuditEvent,
    Beneficiary,
    Comment,
    Consultation,
    Document,
    Followup,
    HelpRequest,
    Relative,
)
from core.nir import format_nir
from core.pdf import euros
from core.roles import Action, can
from core.services import audit
from core.subject_access_pdf import subject_access_pdf
from tenants.api import current_structure

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
PDF = "pdf"
JSON = "json"
CONTENT_TYPES = {PDF: "application/pdf", JSON: "application/json"}
FORMAT_LABELS = {PDF: "PDF", JSON: "JSON"}

EMPTY = "Non renseigné"
NIR_NOT_INCLUDED = "Renseigné, non inclus dans cet export"

# Beneficiary fields left out: the row id, and copies of other fields kept for search (the
# names, phone numbers and city, normalised) and for detecting concurrent edits.
INTERNAL_FIELDS = {"id", "search_text", "city_key", "version"}
# Fields of the items on the file that the export leaves out: ids, the link back to the file,
# and where a document's file is stored.
_ITEM_FIELDS_LEFT_OUT = {"id", "beneficiary", "storage_key", "file"}
# Labels of fields whose model gives no French name.
_LABELS = {
    "created_at": "Créé le",
    "updated_at": "Modifié le",
    "content_type": "Format du fichier",
}
_FILE_SECTION = (
    "Dossier",
    [
        "file_number",
        "status",
        "referents",
        "aidant_connect_mandate",
        "followup_types",
        "created_by",
        "created_at",
        "updated_at",
    ],
)
_OTHER_SECTION_TITLE = "Autres informations"


@dataclass(frozen=True)
class FileExport:
    content: bytes
    filename: str
    content_type: str


def exported_file_fields() -> list[str]:
    """Return the names of the Beneficiary fields the export contains: all but INTERNAL_FIELDS."""
    return [
        field.name
        for field in Beneficiary._meta.get_fields()
        if (field.concrete or field.many_to_many)
        and not field.auto_created
        and field.name not in INTERNAL_FIELDS
    ]


def export_file(
    agent: Agent,
    beneficiary: Beneficiary,
    file_format: str,
    *,
    include_private_syntheses: bool = False,
    include_nir: bool = False,
) -> FileExport:
    """Build the export of ``beneficiary`` as ``file_format`` and record it in the audit trail.

    The caller has checked that ``agent`` may export this file (``Action.EXPORT_FILE``) and, when
    asked, read its social security number. Including the private syntheses needs
    ``Action.EXPORT_FILE_PRIVATE_SYNTHESES``, checked here too.
    """
    if file_format not in CONTENT_TYPES:
        raise ValueError(f"Invalid export format {file_format!r}: expected {PDF!r} or {JSON!r}.")
    if include_private_syntheses and not can(agent, Action.EXPORT_FILE_PRIVATE_SYNTHESES):
        raise PermissionDenied("Only the structure manager may export private syntheses.")

    data = subject_access_data(
        beneficiary,
        agent,
        include_private_syntheses=include_private_syntheses,
        include_nir=include_nir,
    )
    content = subject_access_pdf(data) if file_format == PDF else subject_access_json(data)

    with transaction.atomic():
        audit.record(
            agent,
            "export_file",
            beneficiary,
            {
                "format": FORMAT_LABELS[file_format],
                "private_syntheses_included": include_private_syntheses,
                "nir_included": include_nir,
            },
            beneficiary_id=beneficiary.pk,
        )
    logger.info(
        "File %s exported as %s by agent %s (private syntheses: %s)",
        beneficiary.pk,
        file_format,
        agent.pk,
        include_private_syntheses,
    )
    day = timezone.localdate()
    return FileExport(
        content=content,
        filename=f"dossier-{beneficiary.file_number}-{day:%Y-%m-%d}.{file_format}",
        content_type=CONTENT_TYPES[file_format],
    )


def subject_access_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def subject_access_data(
    beneficiary: Beneficiary,
    agent: Agent,
    *,
    include_private_syntheses: bool,
    include_nir: bool,
) -> dict[str, Any]:
    """Return everything the structure stores about the person of ``beneficiary``."""
    beneficiary = (
        Beneficiary.objects.select_related("created_by")
        .prefetch_related(
            Prefetch("referents", queryset=Agent.objects.order_by("last_name", "id")),
            "followup_types",
        )
        .get(pk=beneficiary.pk)
    )
    structure = current_structure()
    now = timezone.localtime()
    comments = Prefetch("comments", queryset=Comment.objects.select_related("author"))

    followups = (
        Followup.objects.filter(beneficiary=beneficiary)
        .select_related("created_by")
        .prefetch_related("followup_types", "documents", comments)
        .order_by("date", "id")
    )
    help_requests = (
        HelpRequest.objects.filter(beneficiary=beneficiary)
        .select_related("created_by", "followup_type", "committee")
        .prefetch_related("documents", comments)
        .order_by("opening_date", "id")
    )
    left_out = set() if include_private_syntheses else {"private_synthesis"}

    return {
        "export": {
            "format_version": FORMAT_VERSION,
            "title": f"Dossier n°{beneficiary.file_number}",
            "generated_at": now.isoformat(),
            "generated_at_display": _datetime_display(now),
            "generated_by": agent.full_name,
            "private_syntheses_included": include_private_syntheses,
            "nir_included": include_nir,
        },
        "structure": {
            "name": structure.name,
            "address": structure.address,
            "phone": structure.phone,
            "email": structure.email,
        },
        "file": {
            "file_number": beneficiary.file_number,
            "display_name": beneficiary.display_name,
            "sections": _file_sections(beneficiary, include_nir),
        },
        "relatives": [
            _item(relative, relative.display_name or "Membre de l'entourage sans nom")
            for relative in Relative.objects.filter(beneficiary=beneficiary).select_related(
                "linked_beneficiary"
            )
        ],
        "followups": [
            _item(followup, str(followup), left_out, comments=True) for followup in followups
        ],
        "help_requests": [
            _item(
                help_request,
                f"{help_request} — {help_request.followup_type}",
                left_out,
                comments=True,
            )
            for help_request in help_requests
        ],
        "documents": [
            _item(document, document.name)
            for document in Document.objects.filter(beneficiary=beneficiary)
            .select_related("created_by")
            .order_by("created_at", "id")
        ],
        "history": _history(beneficiary),
        "consultations": [
            {
                "date": _iso(consultation.consulted_at),
                "date_display": _datetime_display(consultation.consulted_at),
                "agent": consultation.agent.full_name,
                "role": Role(consultation.agent.role).label,
            }
            for consultation in Consultation.objects.filter(beneficiary=beneficiary)
            .select_related("agent")
            .order_by("consulted_at", "id")
        ],
    }


def _file_sections(beneficiary: Beneficiary, include_nir: bool) -> list[dict[str, Any]]:
    """Return the file's fields grouped as on the file page, then any field no group names."""
    exported = exported_file_fields()
    groups = [_FILE_SECTION, *FIELDSETS, *FULL_FIELDSETS]
    placed: set[str] = set()
    sections = []
    for title, names in groups:
        names = [name for name in names if name in exported and name not in placed]
        placed.update(names)
        sections.append(
            {
                "title": title,
                "fields": [_file_entry(beneficiary, name, include_nir) for name in names],
            }
        )
    others = [name for name in exported if name not in placed]
    sections.append(
        {
            "title": _OTHER_SECTION_TITLE,
            "fields": [_file_entry(beneficiary, name, include_nir) for name in others],
        }
    )
    return sections


def _file_entry(beneficiary: Beneficiary, name: str, include_nir: bool) -> dict[str, Any]:
    entry = _entry(beneficiary, name)
    if name == "social_security_number" and entry["value"] and not include_nir:
        entry["value"] = None
        entry["display"] = NIR_NOT_INCLUDED
    elif name == "social_security_number" and entry["value"]:
        entry["display"] = format_nir(entry["value"])
    return entry


def _item(
    instance: models.Model,
    title: str,
    left_out: Iterable[str] = (),
    comments: bool = False,
) -> dict[str, Any]:
    """Return an interview, aid request, relative or document: its id, a title and every field
    but the ids, the link to the file, a document's storage place and ``left_out``."""
    skipped = _ITEM_FIELDS_LEFT_OUT | set(left_out)
    names = [
        field.name
        for field in instance._meta.get_fields()
        if (field.concrete or field.many_to_many)
        and not field.auto_created
        and field.name not in skipped
    ]
    item: dict[str, Any] = {
        "id": instance.pk,
        "title": title,
        "fields": [_entry(instance, name) for name in names],
    }
    if comments:
        item["comments"] = [
            {
                "date": _iso(comment.created_at),
                "date_display": _datetime_display(comment.created_at),
                "author": comment.author.full_name,
                "content": comment.content,
            }
            for comment in instance.comments.all()  # type: ignore[attr-defined]
        ]
    return item


def _entry(instance: models.Model, name: str) -> dict[str, Any]:
    """Return one field as ``{"key", "label", "value", "display"}``.

    ``value`` is for programs (choice codes, ISO 8601 dates, amounts as decimal strings, related
    items by name) and ``display`` is what the file page shows a person (labels, dd/mm/yyyy).
    """
    field = instance._meta.get_field(name)
    label = _LABELS.get(name) or capfirst(str(field.verbose_name))  # type: ignore[union-attr]

    if field.many_to_many:
        names = [_related_name(item) for item in getattr(instance, name).all()]
        return _pack(name, label, names, ", ".join(names) or "Aucun")
    if isinstance(field, models.ForeignKey):
        related = getattr(instance, name)
        text = _related_name(related) if related is not None else None
        return _pack(name, label, text, text or EMPTY)

    value = getattr(instance, name)
    if isinstance(field, ArrayField):
        labels = dict(field.base_field.choices or [])
        display = ", ".join(str(labels.get(code, code)) for code in value)
        return _pack(name, label, list(value), display or EMPTY)
    if field.choices and value not in (None, ""):
        return _pack(name, label, value, str(dict(field.flatchoices).get(value, value)))
    return _pack(name, label, _json_value(value), _display(value))


def _pack(key: str, label: str, value: Any, display: str) -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, "display": display}


def _related_name(item: models.Model) -> str:
    if isinstance(item, Agent):
        return item.full_name
    if isinstance(item, Beneficiary):
        return f"dossier n°{item.file_number}"
    return str(item)


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _display(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, datetime):
        return _datetime_display(value)
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, Decimal):
        return euros(value)
    return str(value)


def _iso(value: datetime) -> str:
    return timezone.localtime(value).isoformat()


def _datetime_display(value: datetime) -> str:
    return f"{timezone.localtime(value):%d/%m/%Y à %H:%M}"


def _history(beneficiary: Beneficiary) -> list[dict[str, Any]]:
    """Return the file's audit rows, oldest first, as the "Historique des changements" tab
    words them: every change shown, and the texts of syntheses and comments left out."""
    events = list(
        AuditEvent.objects.filter(beneficiary_id=beneficiary.pk).order_by("created_at", "id")
    )
    rows = []
    for row in present(events, full_info=True, protected=True):
        is_update = row.event.action.startswith("update")
        rows.append(
            {
                "date": _iso(row.event.created_at),
                "date_display": _datetime_display(row.event.created_at),
                "action": row.event.action,
                "operation": row.operation,
                "actor": row.event.actor_label,
                "changes": [
                    {
                        "label": change.label,
                        "old": change.old if is_update else None,
                        "new": change.new,
                    }
                    for change in row.changes
                ],
            }
        )
    return rows
