"""Suspending, reactivating and deleting a structure, each recorded in the national audit trail.

A suspended structure keeps its data while every sign-in, request and job skips it. Deleting
one follows a two-person rule: a national user requests it once the suspended structure's data
was exported, and another national user confirms it before the request expires. The deletion
drops the schema, the public rows and the stored files.
"""

import logging
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import (
    NationalAuditEvent,
    NationalUser,
    Structure,
    StructureDeletionRequest,
)
from tenants.structure_archive import stored_files

logger = logging.getLogger(__name__)

# Time a second national user has to confirm a deletion request.
DELETION_CONFIRMATION_DELAY = timedelta(hours=48)
# Events listed on a structure's console page; the national journal page lists them all.
RECENT_EVENTS = 20


class OffboardingError(Exception):
    """An action that the structure's state forbids. Its message is in French and states what
    to do next."""


def set_suspended(structure: Structure, suspended: bool, actor: NationalUser | None) -> bool:
    """Suspend or reactivate ``structure``; return whether its status changed.

    Reactivating cancels a pending deletion request, because agents may change the data that
    the export behind it holds.
    """
    target = Structure.Status.SUSPENDED if suspended else Structure.Status.ACTIVE
    with transaction.atomic():
        structure = Structure.objects.select_for_update().get(pk=structure.pk)
        if structure.status == Structure.Status.PROVISIONING or structure.status == target:
            return False
        structure.status = target
        structure.save(update_fields=["status"])
        action = (
            NationalAuditEvent.Action.SUSPEND if suspended else NationalAuditEvent.Action.REACTIVATE
        )
        NationalAuditEvent.record(actor, action, structure)
        if not suspended:
            _cancel_request(structure, actor, reason="réactivation de la structure")
    logger.info("Structure %s is now %s", structure.schema_name, target)
    return True


def export_since_suspension(structure: Structure) -> NationalAuditEvent | None:
    """Return the latest export of ``structure`` recorded after its latest suspension."""
    events = NationalAuditEvent.objects.filter(structure_slug=structure.slug)
    exports = events.filter(action=NationalAuditEvent.Action.EXPORT)
    suspension = events.filter(action=NationalAuditEvent.Action.SUSPEND).first()
    if suspension is not None:
        exports = exports.filter(created_at__gte=suspension.created_at)
    return exports.first()


def pending_request(structure: Structure) -> StructureDeletionRequest | None:
    """Return the deletion request of ``structure`` that can still be confirmed."""
    return (
        StructureDeletionRequest.objects.filter(structure=structure, expires_at__gt=timezone.now())
        .select_related("requested_by", "export_event")
        .first()
    )


def offboarding_state(structure: Structure) -> dict[str, Any]:
    """Return what the console shows of a structure's offboarding: its pending deletion
    request, its export since suspension and its latest national audit events."""
    return {
        "deletion_request": pending_request(structure),
        "export_since_suspension": export_since_suspension(structure),
        "national_events": NationalAuditEvent.objects.filter(structure_slug=structure.slug)[
            :RECENT_EVENTS
        ],
        "deletion_delay_hours": int(DELETION_CONFIRMATION_DELAY.total_seconds() // 3600),
    }


def request_deletion(structure: Structure, actor: NationalUser) -> StructureDeletionRequest:
    """Record ``actor``'s request to delete ``structure``, to be confirmed by someone else."""
    with transaction.atomic():
        structure = Structure.objects.select_for_update().get(pk=structure.pk)
        if structure.status != Structure.Status.SUSPENDED:
            raise OffboardingError(
                "Suspendez d'abord la structure : sa suppression ne peut être demandée que "
                "lorsque plus personne ne peut modifier ses données."
            )
        export = export_since_suspension(structure)
        if export is None:
            raise OffboardingError(
                "Exportez d'abord les données de la structure (bouton « Exporter les "
                "données ») et remettez l'archive à la structure : la suppression n'est "
                "possible qu'après un export fait depuis sa suspension."
            )
        existing = pending_request(structure)
        if existing is not None:
            raise OffboardingError(
                f"Une demande de suppression est déjà en cours, faite par "
                f"{existing.requested_by.email}. Un autre membre de l'équipe nationale doit la "
                f"confirmer avant le {timezone.localtime(existing.expires_at):%d/%m/%Y à %H:%M}."
            )
        # An expired request is replaced by the new one.
        StructureDeletionRequest.objects.filter(structure=structure).delete()
        request = StructureDeletionRequest.objects.create(
            structure=structure,
            requested_by=actor,
            expires_at=timezone.now() + DELETION_CONFIRMATION_DELAY,
            export_event=export,
        )
        NationalAuditEvent.record(
            actor,
            NationalAuditEvent.Action.DELETION_REQUEST,
            structure,
            {"export_event": export.pk, "expires_at": request.expires_at.isoformat()},
        )
    logger.info("Deletion of structure %s requested by %s", structure.schema_name, actor.pk)
    return request


def cancel_deletion(structure: Structure, actor: NationalUser) -> None:
    with transaction.atomic():
        structure = Structure.objects.select_for_update().get(pk=structure.pk)
        if not _cancel_request(structure, actor, reason="annulée dans la console"):
            raise OffboardingError("Aucune demande de suppression n'est en cours.")


def _cancel_request(structure: Structure, actor: NationalUser | None, reason: str) -> bool:
    deleted, _ = StructureDeletionRequest.objects.filter(structure=structure).delete()
    if deleted:
        NationalAuditEvent.record(
            actor, NationalAuditEvent.Action.DELETION_CANCEL, structure, {"reason": reason}
        )
    return bool(deleted)


def confirm_deletion(structure: Structure, actor: NationalUser) -> None:
    """Delete ``structure`` on the confirmation of a national user other than the requester.

    Drops the schema and the public rows (domain, directory, statistics) in one transaction
    that records the deletion, then deletes the stored files once it commits.
    """
    with transaction.atomic():
        structure = Structure.objects.select_for_update().get(pk=structure.pk)
        request = (
            StructureDeletionRequest.objects.filter(structure=structure)
            .select_related("requested_by", "export_event")
            .first()
        )
        if request is None:
            raise OffboardingError(
                "Aucune demande de suppression n'est en cours : demandez d'abord la "
                "suppression, puis faites-la confirmer par un autre membre de l'équipe "
                "nationale."
            )
        if request.expires_at <= timezone.now():
            raise OffboardingError(
                f"La demande de suppression a expiré le "
                f"{timezone.localtime(request.expires_at):%d/%m/%Y à %H:%M}. Demandez de "
                "nouveau la suppression."
            )
        if request.requested_by_id == actor.pk:
            raise OffboardingError(
                "Vous avez vous-même demandé cette suppression : un autre membre de l'équipe "
                "nationale doit la confirmer."
            )
        if structure.status != Structure.Status.SUSPENDED:
            raise OffboardingError("Suspendez d'abord la structure.")

        schema_name = structure.schema_name
        NationalAuditEvent.record(
            actor,
            NationalAuditEvent.Action.DELETION,
            structure,
            {
                "requested_by": request.requested_by.email,
                "requested_at": request.requested_at.isoformat(),
                "export_event": request.export_event_id,
                "export_sha256": request.export_event.details.get("sha256", ""),
                "schema_name": schema_name,
            },
        )
        # django-tenants drops the schema; the domain, directory entries, statistics and this
        # request go with the row through their foreign keys.
        structure.delete(force_drop=True)
        transaction.on_commit(lambda: delete_stored_files(schema_name))
    logger.info("Structure %s deleted by %s", schema_name, actor.pk)


def delete_stored_files(schema_name: str) -> None:
    """Delete every file of the structure ``schema_name`` from the storage, and its folder."""
    with schema_context(schema_name):
        deleted = 0
        for path in list(stored_files(default_storage)):
            default_storage.delete(path)
            deleted += 1
        try:
            folder = default_storage.path("")
        except NotImplementedError:
            # Object storages have no folders to remove.
            folder = None
    # The folder is checked to be the structure's own, so a wrong setting cannot remove the
    # storage root of every structure.
    if folder is not None and Path(folder).name == schema_name:
        shutil.rmtree(folder, ignore_errors=True)
    logger.info("Deleted %d stored files of structure %s", deleted, schema_name)
