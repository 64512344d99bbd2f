"""Interviews and aid requests: creating, changing and deleting them, with their rules."""

import logging
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.enums import HELP_REQUEST_TRANSITIONS, HelpRequestStatus
from core.models import Agent, Beneficiary, Document, Followup, FollowupType, HelpRequest
from core.services import audit
from core.services.beneficiaries import lock_open_file

logger = logging.getLogger(__name__)

GRANTED = {HelpRequestStatus.ACCEPTED, HelpRequestStatus.CLOSED_BY_BENEFICIARY}
SESSION_DECISIONS = {
    HelpRequestStatus.ACCEPTED,
    HelpRequestStatus.REFUSED,
    HelpRequestStatus.ADJOURNED,
}


def _check_closed_session(stored: HelpRequest, values: dict[str, Any]) -> None:
    """Raise ValidationError on a change to what a closed commission session decided.

    The legal next steps stay open: an appeal reopens a refusal, and payment and end of
    support follow a grant.
    """
    committee = stored.committee
    if committee is None or committee.status != "closed":
        return
    changed = [
        name for name in DECISION_FIELDS if name in values and values[name] != getattr(stored, name)
    ]
    reopening = values.get("status") == HelpRequestStatus.INVESTIGATION_ONGOING
    if changed and not reopening:
        raise ValidationError(
            {
                changed[0]: (
                    f"Cette décision a été prise en commission le {committee.date:%d/%m/%Y} : elle "
                    "ne peut plus être modifiée. Après un recours, repassez d'abord la demande "
                    "« En cours d'instruction »."
                )
            }
        )


def refresh_followup_types(beneficiary: Beneficiary) -> None:
    """Keep the file's follow-up types equal to those its interviews and requests use."""
    used = set(
        FollowupType.objects.filter(followups__beneficiary=beneficiary).values_list("pk", flat=True)
    ) | set(
        HelpRequest.objects.filter(beneficiary=beneficiary).values_list(
            "followup_type_id", flat=True
        )
    )
    beneficiary.followup_types.set(used)


def _save_item(
    actor: Agent,
    item: Followup | HelpRequest,
    values: dict[str, Any],
    relations: dict[str, Iterable[Any]],
    action: str,
) -> None:
    """Apply values and many-to-many relations to an item, then record the change."""
    creating = item.pk is None
    before = {} if creating else {**audit.snapshot(item), **_relations_snapshot(item, relations)}
    for name, value in values.items():
        setattr(item, name, value)
    item.save()
    for name, related in relations.items():
        getattr(item, name).set(related)
    after = {**audit.snapshot(item), **_relations_snapshot(item, relations)}
    changes = after if creating else audit.diff(before, after)
    # The private synthesis belongs to its author. Other agents read the trail, so it records
    # that the text changed, not its content.
    if changes.get("private_synthesis"):
        changes["private_synthesis"] = (
            "(texte privé)" if creating else ["(texte privé)", "(texte privé modifié)"]
        )
    if changes:
        audit.record(actor, action, item, changes, beneficiary_id=item.beneficiary_id)


def _file_id(item: Followup | HelpRequest, values: dict[str, Any]) -> int:
    """Return the id of the file ``item`` belongs to once ``values`` are applied."""
    beneficiary = values.get("beneficiary")
    return beneficiary.pk if beneficiary is not None else item.beneficiary_id


def _relations_snapshot(item: Any, relations: dict[str, Iterable[Any]]) -> dict[str, list[int]]:
    return {name: sorted(getattr(item, name).values_list("pk", flat=True)) for name in relations}


def save_followup(
    actor: Agent,
    followup: Followup,
    values: dict[str, Any],
    followup_types: Iterable[FollowupType],
    documents: Iterable[Document] | None = None,
) -> Followup:
    """Create or change an interview; ``documents``, when given, replaces its documents.

    Raises AlreadyArchived when the file is archived.
    """
    creating = followup.pk is None
    relations: dict[str, list[Any]] = {"followup_types": list(followup_types)}
    if documents is not None:
        relations["documents"] = list(documents)
    with transaction.atomic():
        lock_open_file(_file_id(followup, values))
        if creating:
            followup.created_by = actor
        _save_item(
            actor,
            followup,
            values,
            relations,
            "create_followup" if creating else "update_followup",
        )
        refresh_followup_types(followup.beneficiary)
    logger.info("Interview %s saved by agent %s", followup.pk, actor.pk)
    return followup


def delete_item(actor: Agent, item: Followup | HelpRequest) -> None:
    """Delete an interview or aid request; raise AlreadyArchived when the file is archived."""
    beneficiary = item.beneficiary
    with transaction.atomic():
        lock_open_file(beneficiary.pk)
        action = "delete_followup" if isinstance(item, Followup) else "delete_help_request"
        audit.record(actor, action, item, {}, beneficiary_id=beneficiary.pk)
        item.delete()
        refresh_followup_types(beneficiary)
    logger.info("%s deleted by agent %s", type(item).__name__, actor.pk)


def check_help_request(values: dict[str, Any], previous_status: str | None) -> None:
    """Raise ValidationError, field by field in French, when the request breaks a rule."""
    errors: dict[str, str] = {}
    status = values.get("status")
    if previous_status and status != previous_status:
        if status not in HELP_REQUEST_TRANSITIONS.get(previous_status, set()):
            errors["status"] = (
                f"Une demande « {HelpRequestStatus(previous_status).label} » ne peut pas passer "
                f"directement à « {HelpRequestStatus(status).label} ». "
                + _allowed_next(previous_status)
            )

    granted = status in GRANTED
    if status == HelpRequestStatus.REFUSED and not (values.get("refusal_reason") or "").strip():
        errors["refusal_reason"] = "Indiquez le motif du refus : il figure sur le courrier envoyé."
    if values.get("allocated_amount") is not None and not granted:
        errors["allocated_amount"] = (
            "Un montant attribué n'est possible que pour une demande acceptée. "
            "Changez le statut ou effacez le montant."
        )
    if (values.get("payment_date") or values.get("payment_method")) and not granted:
        errors["payment_date"] = (
            "Une aide ne peut être payée qu'une fois accordée : passez la demande à "
            "« Accepté » avant d'indiquer le paiement."
        )
    if values.get("payment_date") and values.get("allocated_amount") is None:
        errors["allocated_amount"] = "Indiquez le montant attribué avant d'enregistrer le paiement."
    if values.get("financial_reason") and not values.get("is_financial"):
        errors["financial_reason"] = (
            "Le motif d'aide financière ne concerne que les aides financières."
        )
    _check_dates(values, errors)
    if errors:
        raise ValidationError(errors)


def _allowed_next(status: str) -> str:
    labels = sorted(
        HelpRequestStatus(next_status).label for next_status in HELP_REQUEST_TRANSITIONS[status]
    )
    return "Statuts possibles ensuite : " + ", ".join(f"« {label} »" for label in labels) + "."


def _check_dates(values: dict[str, Any], errors: dict[str, str]) -> None:
    opening: date | None = values.get("opening_date")
    decision: date | None = values.get("decision_date")
    payment: date | None = values.get("payment_date")
    end: date | None = values.get("end_of_support_date")
    if opening and decision and decision < opening:
        errors["decision_date"] = "La décision ne peut pas précéder l'ouverture du dossier."
    if decision and payment and payment < decision:
        errors["payment_date"] = "Le paiement ne peut pas précéder la décision."
    if opening and end and end < opening:
        errors["end_of_support_date"] = (
            "La fin de prise en charge ne peut pas précéder l'ouverture du dossier."
        )


# Fields decided by a commission session. Once the session is closed, a change would contradict
# its minutes and the letter sent to the person.
DECISION_FIELDS = ("allocated_amount", "committee_date", "decision_date", "refusal_reason")


def save_help_request(
    actor: Agent,
    help_request: HelpRequest,
    values: dict[str, Any],
    documents: Iterable[Document] | None = None,
    session_decision: bool = False,
) -> HelpRequest:
    """Create or change an aid request after checking its status rules.

    ``session_decision`` lets an open commission session correct its own decision (accepted,
    refused or adjourned) without going through the transitions from one to the other.
    ``documents``, when given, replaces the request's documents. Raises AlreadyArchived when
    the file is archived.
    """
    creating = help_request.pk is None
    stored = (
        None
        if creating
        else HelpRequest.objects.select_related("committee").get(pk=help_request.pk)
    )
    previous_status = None if stored is None else stored.status
    if session_decision and previous_status in SESSION_DECISIONS:
        previous_status = HelpRequestStatus.INVESTIGATION_ONGOING
    if stored is not None:
        _check_closed_session(stored, values)
    merged = {
        field.name: getattr(help_request, field.attname)
        for field in HelpRequest._meta.concrete_fields
    }
    merged.update(values)
    check_help_request(merged, previous_status)
    if merged.get("status") in GRANTED | {HelpRequestStatus.REFUSED} and not merged.get(
        "decision_date"
    ):
        values["decision_date"] = timezone.localdate()

    with transaction.atomic():
        lock_open_file(_file_id(help_request, values))
        if creating:
            help_request.created_by = actor
        _save_item(
            actor,
            help_request,
            values,
            {} if documents is None else {"documents": list(documents)},
            "create_help_request" if creating else "update_help_request",
        )
        refresh_followup_types(help_request.beneficiary)
    logger.info("Aid request %s saved by agent %s", help_request.pk, actor.pk)
    return help_request
