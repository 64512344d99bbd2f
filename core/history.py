"""Turning audit events into the "Historique des changements" agents read: French labels and
displayed values, never field names or codes."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from core.forms.beneficiaries import FULL_FIELDS
from core.models import (
    Agent,
    AuditEvent,
    Beneficiary,
    Comment,
    Document,
    Followup,
    HelpRequest,
    Relative,
)

OPERATION_LABELS = {
    "create_beneficiary": "Création du dossier",
    "update_beneficiary": "Modification du dossier",
    "add_relative": "Ajout d'un membre de l'entourage",
    "update_relative": "Modification d'un membre de l'entourage",
    "delete_relative": "Retrait d'un membre de l'entourage",
    "reveal_nir": "Affichage du n° de sécurité sociale",
    "archive_beneficiary": "Archivage du dossier (informations personnelles effacées)",
    "hold_retention": "Conservation justifiée du dossier",
    "end_retention_hold": "Fin de la conservation justifiée",
    "create_followup": "Ajout d'un entretien",
    "update_followup": "Modification d'un entretien",
    "delete_followup": "Suppression d'un entretien",
    "create_help_request": "Ajout d'une demande d'aide",
    "update_help_request": "Modification d'une demande d'aide",
    "delete_help_request": "Suppression d'une demande d'aide",
    "add_comment": "Ajout d'un commentaire",
    "add_document": "Ajout d'un document",
    "update_document": "Modification d'un document",
    "delete_document": "Suppression d'un document",
    "download_document": "Téléchargement d'un document",
    "export_file": "Export du dossier (droit d'accès)",
    "invite_agent": "Invitation d'un agent",
    "update_agent": "Modification d'un agent",
}
_MODELS: dict[str, type[models.Model]] = {
    "beneficiary": Beneficiary,
    "relative": Relative,
    "agent": Agent,
    "followup": Followup,
    "helprequest": HelpRequest,
    "comment": Comment,
    "document": Document,
}
# Texts whose readers the role matrix restricts. Every agent who opens the file reads the
# history, so it shows that these texts changed, never their content.
_TEXTS_NOT_SHOWN = {"synthesis", "private_synthesis", "content"}
# Aid-request fields that roles without access to protected data never see.
PROTECTED_HELP_REQUEST_FIELDS = {
    "requested_amount",
    "allocated_amount",
    "committee",
    "committee_date",
    "decision_date",
    "dispatch_date",
    "payment_method",
    "payment_date",
    "end_of_support_date",
    "instructor_organisation",
    "refusal_reason",
}
# Keys that repeat information the row already shows.
_KEYS_NOT_SHOWN = {"beneficiary", "followup", "help_request", "author"}
# Labels of recorded keys that are no model field: the options of a file's export.
_KEY_LABELS = {
    "format": "Format",
    "private_syntheses_included": "Comptes rendus privés inclus",
    "nir_included": "N° de sécurité sociale inclus",
}


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryRow:
    event: AuditEvent
    operation: str
    changes: list[Change]


def present(
    events: list[AuditEvent],
    full_info: bool = True,
    protected: bool = True,
    followup_details: Callable[[AuditEvent], bool] | None = None,
) -> list[HistoryRow]:
    """Return the events as rows; agents named in referent changes are read in one query.

    The history shows an agent only what the file's sections show them: without ``full_info``,
    no change to the full file (health, income, protection, relatives); without ``protected``,
    no aid-request amount, date or decision; and for interviews, only the operation unless
    ``followup_details`` accepts the event.
    """
    if not full_info:
        events = [event for event in events if event.target_type != "relative"]
    agent_ids = {
        agent_id for event in events for agent_id in _referent_ids(event.changes.get("referents"))
    }
    agents = {agent.pk: agent.full_name for agent in Agent.objects.filter(pk__in=agent_ids)}
    return [
        HistoryRow(
            event=event,
            operation=OPERATION_LABELS.get(event.action, event.action),
            changes=[
                change
                for name, change in _changes(event, agents)
                if _shown(event, name, full_info, protected, followup_details)
            ],
        )
        for event in events
    ]


def _shown(
    event: AuditEvent,
    name: str,
    full_info: bool,
    protected: bool,
    followup_details: Callable[[AuditEvent], bool] | None,
) -> bool:
    if event.target_type == "beneficiary":
        return full_info or name not in FULL_FIELDS
    if event.target_type == "helprequest":
        return protected or name not in PROTECTED_HELP_REQUEST_FIELDS
    if event.target_type == "followup":
        return followup_details is None or followup_details(event)
    return True


def _referent_ids(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    if value and isinstance(value[0], list):
        return [agent_id for group in value for agent_id in group]
    return [agent_id for agent_id in value if isinstance(agent_id, int)]


def _changes(event: AuditEvent, agents: dict[int, str]) -> list[tuple[str, Change]]:
    model = _MODELS.get(event.target_type)
    is_update = event.action.startswith("update")
    rows = []
    for name, value in event.changes.items():
        if name in _KEYS_NOT_SHOWN:
            continue
        if name in _TEXTS_NOT_SHOWN:
            field = _field(model, name)
            label = str(field.verbose_name).capitalize() if field else "Texte"
            rows.append((name, Change(label, "", "(texte non affiché)")))
            continue
        old, new = (
            value if is_update and isinstance(value, list) and len(value) == 2 else (None, value)
        )
        if name == "referents":
            rows.append(
                (
                    name,
                    Change(
                        "Agent(s) référent(s)",
                        _agent_names(old, agents) if is_update else "",
                        _agent_names(new, agents),
                    ),
                )
            )
            continue
        field = _field(model, name)
        label = str(field.verbose_name).capitalize() if field else _KEY_LABELS.get(name, name)
        rows.append((name, Change(label, _display(field, old), _display(field, new))))
    return rows


def _field(model: type[models.Model] | None, name: str) -> models.Field | None:  # type: ignore[type-arg]
    if model is None:
        return None
    try:
        return model._meta.get_field(name)  # type: ignore[return-value]
    except FieldDoesNotExist:
        return None


def _agent_names(ids: Any, agents: dict[int, str]) -> str:
    return ", ".join(agents.get(agent_id, "agent supprimé") for agent_id in ids or [])


def _display(field: models.Field | None, value: Any) -> str:  # type: ignore[type-arg]
    if value in (None, "", []):
        return "(vide)"
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    choices = _choices(field)
    if isinstance(value, list):
        return ", ".join(str(choices.get(item, item)) for item in value)
    if choices:
        return str(choices.get(value, value))
    if isinstance(field, models.DateField) and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
        except ValueError:
            return value
    if isinstance(field, models.ForeignKey):
        return f"dossier lié n°{value}" if field.name == "linked_beneficiary" else str(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def _choices(field: models.Field | None) -> dict[Any, str]:  # type: ignore[type-arg]
    if field is None:
        return {}
    base = getattr(field, "base_field", None)
    source = base.choices if base is not None else field.choices
    return dict(source or [])
