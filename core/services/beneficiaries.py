"""Creating and changing beneficiary files."""

import logging
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from core.models import Agent, Beneficiary
from core.models.beneficiaries import generate_file_number
from core.services import audit

logger = logging.getLogger(__name__)

_FILE_NUMBER_ATTEMPTS = 5


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
                    actor, "create_beneficiary", beneficiary, changes, beneficiary_id=beneficiary.pk
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
) -> Beneficiary:
    """Apply ``values`` (and the referents, when given) and record what changed."""
    with transaction.atomic():
        beneficiary = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        before = audit.snapshot(beneficiary)
        before_referents = sorted(agent.pk for agent in beneficiary.referents.all())
        for name, value in values.items():
            setattr(beneficiary, name, value)
        beneficiary.save()

        changes: dict[str, Any] = audit.diff(before, audit.snapshot(beneficiary))
        if referents is not None:
            beneficiary.referents.set(referents)
            after_referents = sorted(agent.pk for agent in referents)
            if after_referents != before_referents:
                changes["referents"] = [before_referents, after_referents]
        if changes:
            audit.record(
                actor, "update_beneficiary", beneficiary, changes, beneficiary_id=beneficiary.pk
            )
    logger.info("Beneficiary %s updated by agent %s", beneficiary.pk, actor.pk)
    return beneficiary
