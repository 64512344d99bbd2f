"""Creating and changing beneficiary files, their relatives and who consulted them."""

import logging
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from core.enums import BeneficiaryStatus
from core.models import Agent, AuditEvent, Beneficiary, Consultation, Relative
from core.models.beneficiaries import generate_file_number
from core.services import audit

logger = logging.getLogger(__name__)

_FILE_NUMBER_ATTEMPTS = 5


class AlreadyArchived(ValidationError):
    """The file was archived, by an agent or by the retention job: it can no longer change.

    A ValidationError without a field, so that forms show it above their fields.
    """

    def __init__(self) -> None:
        super().__init__(
            {
                NON_FIELD_ERRORS: [
                    "Ce dossier a été archivé entre-temps : ses informations personnelles sont "
                    "effacées et il ne peut plus être modifié. Rechargez la page du dossier."
                ]
            }
        )


def lock_open_file(beneficiary_id: int) -> Beneficiary:
    """Lock the file's row until the current transaction ends and return it; raise
    AlreadyArchived when the file is archived.

    Every write to a file or to its items takes this lock first, as archiving does. A write
    then either commits before the archiving, which erases it, or finds the file archived.
    """
    current = Beneficiary.objects.select_for_update().get(pk=beneficiary_id)
    if current.status == BeneficiaryStatus.ARCHIVED:
        raise AlreadyArchived()
    return current


class ConcurrentUpdate(Exception):
    """Another agent saved the file after the form was loaded."""

    def __init__(self, current: Beneficiary, events: list[AuditEvent]) -> None:
        super().__init__("concurrent update")
        self.current = current
        self.events = events


def create_beneficiary(
    actor: Agent, values: dict[str, Any], referents: Iterable[Agent] = ()
) -> Beneficiary:
    """Create a file with a fresh file number, its referents and its audit row."""
    for attempt in range(_FILE_NUMBER_ATTEMPTS):
        try:
            with transaction.atomic():
                beneficiary = Beneficiary.objects.create(
                    file_number=generate_file_number(), created_by=actor, **values
                )
                beneficiary.referents.set(referents)
                changes = audit.snapshot(beneficiary)
                changes["referents"] = sorted(agent.pk for agent in beneficiary.referents.all())
                audit.record(
                    actor,
                    "create_beneficiary",
                    beneficiary,
                    changes,
                    beneficiary_id=beneficiary.pk,
                    object_version=beneficiary.version,
                )
        except IntegrityError:
            # 31^10 numbers make a collision very rare; try another number.
            logger.warning("File number collision, attempt %s", attempt + 1)
            continue
        logger.info("Beneficiary %s created by agent %s", beneficiary.pk, actor.pk)
        return beneficiary
    raise RuntimeError("Could not generate a unique file number.")


def update_beneficiary(
    actor: Agent,
    beneficiary: Beneficiary,
    values: dict[str, Any],
    referents: Iterable[Agent] | None = None,
    expected_version: int | None = None,
) -> Beneficiary:
    """Apply ``values`` (and the referents, when given) and record what changed.

    Raises ConcurrentUpdate when ``expected_version`` is older than the stored file, or when the
    file is archived.
    """
    with transaction.atomic():
        current = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        if current.status == BeneficiaryStatus.ARCHIVED:
            # Archived after the caller checked: its personal values must stay erased.
            events = list(
                AuditEvent.objects.filter(beneficiary_id=current.pk, action="archive_beneficiary")
            )
            raise ConcurrentUpdate(current, events)
        if expected_version is not None and expected_version != current.version:
            events = list(
                AuditEvent.objects.filter(
                    beneficiary_id=current.pk, object_version__gt=expected_version
                ).order_by("created_at", "id")
            )
            raise ConcurrentUpdate(current, events)

        before = audit.snapshot(current)
        before_referents = sorted(agent.pk for agent in current.referents.all())
        for name, value in values.items():
            setattr(current, name, value)

        changes: dict[str, Any] = audit.diff(before, audit.snapshot(current))
        if referents is not None:
            after_referents = sorted(agent.pk for agent in referents)
            if after_referents != before_referents:
                current.referents.set(referents)
                changes["referents"] = [before_referents, after_referents]
        if changes:
            current.version = F("version") + 1
            current.save()
            current.refresh_from_db(fields=["version"])
            audit.record(
                actor,
                "update_beneficiary",
                current,
                changes,
                beneficiary_id=current.pk,
                object_version=current.version,
            )
    logger.info("Beneficiary %s updated by agent %s: %s", current.pk, actor.pk, sorted(changes))
    return current


def save_relative(
    actor: Agent, beneficiary: Beneficiary, relative: Relative, values: dict[str, Any]
) -> Relative:
    """Add a relative to the file, or change one; the file's trail records it.

    Raises AlreadyArchived when the file is archived.
    """
    creating = relative.pk is None
    with transaction.atomic():
        lock_open_file(beneficiary.pk)
        before = {} if creating else audit.snapshot(relative)
        for name, value in values.items():
            setattr(relative, name, value)
        relative.beneficiary = beneficiary
        relative.save()
        after = audit.snapshot(relative)
        changes = after if creating else audit.diff(before, after)
        changes.pop("beneficiary", None)
        if changes:
            action = "add_relative" if creating else "update_relative"
            audit.record(actor, action, relative, changes, beneficiary_id=beneficiary.pk)
    logger.info("Relative %s saved on beneficiary %s", relative.pk, beneficiary.pk)
    return relative


def delete_relative(actor: Agent, relative: Relative) -> None:
    """Remove a relative from the file; raise AlreadyArchived when the file is archived."""
    with transaction.atomic():
        lock_open_file(relative.beneficiary_id)
        changes = audit.snapshot(relative)
        changes.pop("beneficiary", None)
        audit.record(
            actor, "delete_relative", relative, changes, beneficiary_id=relative.beneficiary_id
        )
        relative.delete()
    logger.info("Relative removed from beneficiary %s", relative.beneficiary_id)


def record_consultation(agent: Agent, beneficiary: Beneficiary) -> None:
    Consultation.objects.create(agent=agent, beneficiary=beneficiary)


def record_nir_reveal(agent: Agent, beneficiary: Beneficiary) -> None:
    """Log that ``agent`` displayed the full social security number of the file."""
    audit.record(agent, "reveal_nir", beneficiary, {}, beneficiary_id=beneficiary.pk)
    logger.info("Agent %s displayed the NIR of beneficiary %s", agent.pk, beneficiary.pk)
