"""Commission sessions: planning them, putting aid requests on them, recording the decisions
and closing them with their minutes.

Every change to an aid request goes through ``save_help_request``, which checks the status
rules and writes the request's audit row. The session's own changes are audited here.
"""

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core import pdf
from core.enums import BeneficiaryStatus, HelpRequestStatus, InstructionKind
from core.models import Agent, Beneficiary, Committee, HelpRequest
from core.services import audit
from core.services.accompaniments import save_help_request
from core.services.documents import delete_stored_files_on_commit
from tenants.api import current_structure

logger = logging.getLogger(__name__)

# Statuses a session may give a request.
DECISIONS = (
    HelpRequestStatus.ACCEPTED,
    HelpRequestStatus.REFUSED,
    HelpRequestStatus.ADJOURNED,
)
# Statuses after a session's decision for which a letter is sent: attribution or refusal. A
# granted request the person later closed still had its attribution.
LETTER_STATUSES = (
    HelpRequestStatus.ACCEPTED,
    HelpRequestStatus.REFUSED,
    HelpRequestStatus.CLOSED_BY_BENEFICIARY,
)
# The text the minutes print in place of the name of a person whose file was archived.
ARCHIVED_PERSON = "Personne archivée"


class CommitteeClosed(ValidationError):
    """The session is closed: its requests and decisions can no longer change."""

    def __init__(self) -> None:
        super().__init__(
            "Cette séance est close : ses demandes et ses décisions ne peuvent plus être modifiées."
        )


def committee_list() -> QuerySet[Committee]:
    return Committee.objects.select_related("closed_by").annotate(
        request_count=Count("help_requests")
    )


def session_requests(committee: Committee) -> QuerySet[HelpRequest]:
    """Return the requests put on the session, in the order of the people's names."""
    return committee.help_requests.select_related("beneficiary", "followup_type").order_by(
        "beneficiary__usual_name", "beneficiary__birth_name", "beneficiary__first_names", "id"
    )


def eligible_requests(committee: Committee) -> QuerySet[HelpRequest]:
    """Return the requests that can be put on the session.

    They are complete, instructed by the structure, in instruction or adjourned, and on no
    session yet or on an earlier closed one. The latter covers an adjourned request and a
    refused one reopened after an appeal.
    """
    return (
        HelpRequest.objects.filter(
            status__in=[HelpRequestStatus.INVESTIGATION_ONGOING, HelpRequestStatus.ADJOURNED],
            is_complete=True,
            instruction=InstructionKind.INTERNAL,
        )
        .exclude(beneficiary__status=BeneficiaryStatus.ARCHIVED)
        .filter(
            Q(committee__isnull=True)
            | Q(committee__status=Committee.Status.CLOSED, committee__date__lt=committee.date)
        )
        .select_related("beneficiary", "followup_type")
        .order_by("opening_date", "id")
    )


def is_decided(help_request: HelpRequest, committee: Committee) -> bool:
    """Return whether this session recorded a decision on the request."""
    return (
        help_request.committee_id == committee.pk
        and help_request.status in DECISIONS
        and help_request.committee_date == committee.date
    )


def missing_decisions(committee: Committee) -> list[HelpRequest]:
    return [item for item in session_requests(committee) if not is_decided(item, committee)]


def _locked_planned(committee: Committee) -> Committee:
    """Lock the session's row for the current transaction, and reject a closed session."""
    locked = Committee.objects.select_for_update().get(pk=committee.pk)
    if locked.status != Committee.Status.PLANNED:
        raise CommitteeClosed()
    return locked


def create_committee(actor: Agent, kind: str, on: date) -> Committee:
    with transaction.atomic():
        committee = Committee.objects.create(kind=kind, date=on)
        # Not audit.snapshot: it cannot serialise the (still empty) minutes file field.
        changes = {"kind": kind, "date": on.isoformat(), "status": committee.status}
        audit.record(actor, "create_committee", committee, changes)
    logger.info("Committee %s created by agent %s", committee.pk, actor.pk)
    return committee


def add_requests(actor: Agent, committee: Committee, help_request_ids: list[int]) -> int:
    """Put eligible requests on a planned session and return how many were added."""
    with transaction.atomic():
        locked = _locked_planned(committee)
        added = list(eligible_requests(locked).filter(pk__in=help_request_ids))
        for help_request in added:
            save_help_request(actor, help_request, {"committee": locked})
    logger.info("%s requests added to committee %s by agent %s", len(added), committee.pk, actor.pk)
    return len(added)


def remove_request(actor: Agent, committee: Committee, help_request: HelpRequest) -> None:
    with transaction.atomic():
        locked = _locked_planned(committee)
        if help_request.committee_id != locked.pk:
            raise ValidationError("Cette demande ne figure pas dans cette séance.")
        if is_decided(help_request, locked):
            raise ValidationError(
                "Cette séance a déjà enregistré une décision sur cette demande : elle ne peut "
                "plus en être retirée. Si la décision doit être reportée, choisissez "
                "« Ajourné » dans la saisie des décisions."
            )
        save_help_request(actor, help_request, {"committee": None})


@dataclass(frozen=True)
class Decision:
    help_request: HelpRequest
    status: str
    allocated_amount: Decimal | None
    refusal_reason: str

    def values(self, committee: Committee) -> dict[str, object]:
        return {
            "status": self.status,
            "allocated_amount": self.allocated_amount,
            "refusal_reason": self.refusal_reason,
            "committee_date": committee.date,
            "decision_date": committee.date,
        }

    def changes(self, help_request: HelpRequest, committee: Committee) -> bool:
        return any(
            getattr(help_request, name) != value for name, value in self.values(committee).items()
        )


def record_decisions(
    actor: Agent, committee: Committee, decisions: list[Decision], commit: bool = True
) -> dict[int, ValidationError]:
    """Record the session's decisions, all or none.

    Each decision goes through ``save_help_request``. Returns the errors by request id. When
    there is any error, nothing is saved. Nothing is saved either when ``commit`` is false,
    which checks the rows of a page that has other errors.
    """
    errors: dict[int, ValidationError] = {}
    with transaction.atomic():
        locked = _locked_planned(committee)
        for decision in decisions:
            # A fresh copy, because the page's objects may be stale. If a later row fails,
            # the rolled back values must not linger on the objects the page shows again.
            fresh = (
                HelpRequest.objects.select_related("beneficiary")
                .filter(pk=decision.help_request.pk)
                .first()
            )
            if fresh is None or fresh.committee_id != locked.pk:
                errors[decision.help_request.pk] = ValidationError(
                    "Cette demande a été retirée de la séance entre-temps : rechargez la page."
                )
                continue
            if not decision.changes(fresh, locked):
                continue
            try:
                save_help_request(actor, fresh, decision.values(locked), session_decision=True)
            except ValidationError as error:
                errors[decision.help_request.pk] = error
        if errors or not commit:
            transaction.set_rollback(True)
    if commit and not errors:
        logger.info("Decisions of committee %s recorded by agent %s", committee.pk, actor.pk)
    return errors


def close_committee(actor: Agent, committee: Committee) -> Committee:
    """Close a session whose requests all have a decision, and store its minutes."""
    with transaction.atomic():
        locked = _locked_planned(committee)
        requests = list(session_requests(locked))
        if not requests:
            raise ValidationError(
                "Cette séance n'a examiné aucune demande : ajoutez-en avant de la clore."
            )
        missing = [item for item in requests if not is_decided(item, locked)]
        if missing:
            names = ", ".join(item.beneficiary.display_name for item in missing)
            raise ValidationError(
                f"Enregistrez d'abord une décision pour chaque demande. Sans décision : {names}."
            )
        now = timezone.now()
        locked.status = Committee.Status.CLOSED
        locked.closed_at = now
        locked.closed_by = actor
        locked.minutes_rows = [_minutes_entry(item) for item in requests]
        _store_minutes(locked)
        locked.save()
        audit.record(
            actor,
            "close_committee",
            locked,
            {
                "status": [Committee.Status.PLANNED.value, Committee.Status.CLOSED.value],
                "closed_at": now.isoformat(),
                "minutes": locked.minutes.name,
                "decisions": {str(item.pk): item.status for item in requests},
            },
        )
    logger.info("Committee %s closed by agent %s", committee.pk, actor.pk)
    return locked


def letter_available(committee: Committee, help_request: HelpRequest) -> bool:
    """Return whether the session's decision letter to the person can be produced: never once
    the person's file is archived, because the letter is addressed to them by name."""
    return (
        committee.status == Committee.Status.CLOSED
        and help_request.beneficiary.status != BeneficiaryStatus.ARCHIVED
        and help_request.committee_id == committee.pk
        and help_request.committee_date == committee.date
        and help_request.status in LETTER_STATUSES
    )


def decision_letter(committee: Committee, help_request: HelpRequest) -> bytes:
    """Build the decision letter of a closed session's request, dated the day it closed."""
    if not letter_available(committee, help_request):
        raise ValidationError("Aucun courrier de décision n'existe pour cette demande.")
    assert committee.closed_at is not None
    return pdf.decision_letter_pdf(
        current_structure(), committee, help_request, timezone.localdate(committee.closed_at)
    )


# The minutes and archiving


def _minutes_entry(help_request: HelpRequest) -> dict[str, Any]:
    """Return the minutes line of an examined request, as stored in ``minutes_rows``."""
    beneficiary = help_request.beneficiary
    archived = beneficiary.status == BeneficiaryStatus.ARCHIVED
    return {
        "help_request": help_request.pk,
        "beneficiary": beneficiary.pk,
        "file_number": beneficiary.file_number,
        "person": ARCHIVED_PERSON if archived else beneficiary.display_name,
        "followup_type": help_request.followup_type.name,
        "requested_amount": _amount_text(help_request.requested_amount),
        "allocated_amount": _amount_text(help_request.allocated_amount),
        "status": help_request.status,
        "refusal_reason": help_request.refusal_reason,
    }


def _amount_text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)


def _minutes_row(entry: dict[str, Any]) -> pdf.MinutesRow:
    amounts = {
        name: None if entry[name] is None else Decimal(entry[name])
        for name in ("requested_amount", "allocated_amount")
    }
    fields = {
        name: value
        for name, value in entry.items()
        if name in pdf.MinutesRow.__dataclass_fields__ and name not in amounts
    }
    return pdf.MinutesRow(**fields, **amounts)


def _store_minutes(committee: Committee) -> None:
    """Build the minutes PDF of a closed session from its ``minutes_rows`` and attach it; the
    caller saves the session."""
    assert committee.closed_at is not None
    closed_by = committee.closed_by.full_name if committee.closed_by else ""
    content = pdf.minutes_pdf(
        current_structure(),
        committee,
        [_minutes_row(entry) for entry in committee.minutes_rows],
        timezone.localdate(committee.closed_at),
        closed_by,
    )
    committee.minutes.save(
        f"proces-verbal-{committee.date:%Y-%m-%d}-{committee.pk}.pdf",
        ContentFile(content),
        save=False,
    )


def erase_person_from_minutes(actor: Agent | None, beneficiary: Beneficiary) -> int:
    """Rebuild the minutes of each closed session that examined ``beneficiary``, with
    ARCHIVED_PERSON in place of the name and no refusal reason; return how many.

    The decision, amounts and aid type of each line stay. The previous PDF is deleted once the
    transaction commits. Runs inside the archiving's transaction.
    """
    listed = Q(minutes_rows__contains=[{"beneficiary": beneficiary.pk}])
    # NOTE: a session closed before ``minutes_rows`` existed is rebuilt from the requests it
    # still holds. A request adjourned there and decided by a later session has moved on, so
    # that older session is neither found here nor rebuilt.
    legacy = Q(minutes_rows=[], help_requests__beneficiary=beneficiary)
    ids = set(
        Committee.objects.filter(status=Committee.Status.CLOSED)
        .filter(listed | legacy)
        .values_list("pk", flat=True)
    )
    sessions = (
        Committee.objects.select_for_update(of=("self",))
        .select_related("closed_by")
        .filter(pk__in=ids)
    )
    for committee in sessions.order_by("pk"):
        if not committee.minutes_rows:
            committee.minutes_rows = [_minutes_entry(item) for item in session_requests(committee)]
        for entry in committee.minutes_rows:
            if entry["beneficiary"] == beneficiary.pk:
                entry["person"] = ARCHIVED_PERSON
                entry["refusal_reason"] = ""
        previous = committee.minutes.name
        if committee.minutes:
            delete_stored_files_on_commit([committee.minutes])
        _store_minutes(committee)
        committee.save(update_fields=["minutes", "minutes_rows"])
        audit.record(
            actor,
            "rewrite_committee_minutes",
            committee,
            {"minutes": [previous, committee.minutes.name]},
        )
    if ids:
        logger.info(
            "Minutes of committees %s rebuilt without beneficiary %s", sorted(ids), beneficiary.pk
        )
    return len(ids)


def leave_planned_sessions(actor: Agent | None, beneficiary: Beneficiary) -> None:
    """Take the aid requests of ``beneficiary`` off the sessions still planned: no decision can
    be recorded on an archived file. Runs inside the archiving's transaction."""
    requests = HelpRequest.objects.filter(
        beneficiary=beneficiary, committee__status=Committee.Status.PLANNED
    )
    for help_request in requests:
        audit.record(
            actor,
            "update_help_request",
            help_request,
            {"committee": [help_request.committee_id, None]},
            beneficiary_id=beneficiary.pk,
        )
    requests.update(committee=None)
