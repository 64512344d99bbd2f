"""Writing the audit trail. Callers run inside the transaction of the change they record."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from core.models import AuditEvent
from core.nir import mask_nir

# Fields that never go into the trail: derived or bookkeeping values, and those that archiving
# and retention set, whose services record their own audit rows.
_IGNORED_FIELDS = {
    "id",
    "search_text",
    "created_at",
    "updated_at",
    "created_by",
    "version",
    "birth_year",
    "archived_at",
    "archived_by",
    "retention_hold_until",
    "retention_hold_reason",
    "anonymized_at",
}


def _serialize(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Return the instance's concrete field values, serialised for JSON.

    The social security number is kept masked: the trail records that it changed, never its
    value.
    """
    values = {
        field.name: _serialize(getattr(instance, field.attname))
        for field in instance._meta.concrete_fields
        if field.name not in _IGNORED_FIELDS
    }
    if values.get("social_security_number"):
        values["social_security_number"] = mask_nir(values["social_security_number"])
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Return {field: [old, new]} for every field whose value changed."""
    return {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
    }


def record(
    actor: Any,
    action: str,
    target: models.Model,
    changes: dict[str, Any],
    beneficiary_id: int | None = None,
    object_version: int | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        object_version=object_version,
        # The id column names agents of this structure; the national team is named by label.
        actor_id=None if getattr(actor, "is_national", False) else getattr(actor, "pk", None),
        actor_label=_actor_label(actor),
        action=action,
        target_type=target._meta.model_name or "",
        target_id=target.pk,
        beneficiary_id=beneficiary_id,
        changes=changes,
    )


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "Système"
    if getattr(actor, "is_national", False):
        return f"Équipe nationale ({actor.email})"
    return f"{actor.full_name} ({actor.email})"
