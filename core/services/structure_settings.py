"""The manager's settings: the structure's details and its catalogue of follow-up types."""

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from core.enums import FollowupTypeKind
from core.models import Agent, Followup, FollowupType, HelpRequest
from core.services import audit
from core.text import normalize
from tenants.api import current_structure, update_structure_details

logger = logging.getLogger(__name__)


def types_with_usage() -> QuerySet[FollowupType]:
    """Return the catalogue, each type annotated with ``in_use``."""
    return FollowupType.objects.annotate(
        in_use=Exists(Followup.followup_types.through.objects.filter(followuptype=OuterRef("pk")))
        | Exists(HelpRequest.objects.filter(followup_type=OuterRef("pk")))
    ).order_by("kind", "name")


def update_details(actor: Agent, values: dict[str, str]) -> None:
    with transaction.atomic():
        changes = update_structure_details(values)
        if changes:
            audit.record(actor, "update_structure", current_structure(), changes)
    logger.info("Structure details updated by agent %s", actor.pk)


class TypeInUse(Exception):
    """A follow-up type used by an interview or an aid request cannot be withdrawn."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(", ".join(names))
        self.names = names


def update_catalogue(actor: Agent, proposed_ids: Iterable[int]) -> None:
    """Propose exactly the types in ``proposed_ids``; unproposed custom types are deleted."""
    proposed = set(proposed_ids)
    with transaction.atomic():
        catalogue = list(types_with_usage().select_for_update(of=("self",)))
        withdrawn = [item for item in catalogue if item.is_proposed and item.pk not in proposed]
        blocked = [item.name for item in withdrawn if item.in_use]
        if blocked:
            raise TypeInUse(blocked)
        for item in catalogue:
            wanted = item.pk in proposed
            if item.is_proposed == wanted:
                continue
            if not wanted and not item.default_code:
                audit.record(actor, "delete_followup_type", item, {"name": item.name})
                item.delete()
                continue
            item.is_proposed = wanted
            item.save(update_fields=["is_proposed"])
            audit.record(actor, "update_followup_type", item, {"is_proposed": [not wanted, wanted]})
    logger.info("Follow-up type catalogue updated by agent %s", actor.pk)


def add_custom_type(actor: Agent, name: str, kind: str = FollowupTypeKind.OPTIONAL) -> FollowupType:
    with transaction.atomic():
        item = FollowupType.objects.create(name=name, kind=kind, is_proposed=True)
        audit.record(actor, "create_followup_type", item, {"name": name, "kind": kind})
    logger.info("Custom follow-up type %s created by agent %s", item.pk, actor.pk)
    return item


def name_taken(name: str) -> bool:
    """Return whether a type has this name, ignoring case, accents and hyphens."""
    wanted = normalize(name)
    return any(
        normalize(existing) == wanted
        for existing in FollowupType.objects.values_list("name", flat=True)
    )
