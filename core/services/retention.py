"""Retention: how long the structure keeps what it stores about people, and the job that
applies it.

A file's last contact with the person is the latest of these dates: the file's last change,
each interview's date, due date and last change, and each aid request's opening, dispatch,
commission, decision, payment, end-of-support and due dates and last change. A date in the
future (an aid paid until next year, a planned due date) pushes the limit back, because the
follow-up is still running. Reading a file, or the retention job's own work, is no contact.

The file's limit is its last contact plus the structure's ``file_months``. A "conservation
justifiée" whose end date is on or after that limit moves it to the day after that end date.

From ``warning_days`` before the limit, the job warns the referents (or the managers when the
file has none) and records the archiving day it announced: the limit, or ``warning_days``
after the warning when the limit is nearer than that (the job's first run, a run after
downtime, a shortened duration, a hold about to end). The job archives a file on its
announced day at the earliest, and only while that day is on or after the current limit: a
new contact or a hold voids the announcement, and the next warning announces a new day.
A file nobody could be warned about (no active referent, no active manager) is not archived.
"""

import logging
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import DateField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone

from core.enums import BeneficiaryStatus, HelpRequestStatus
from core.models import (
    Agent,
    AuditEvent,
    Beneficiary,
    Consultation,
    Followup,
    HelpRequest,
    RetentionPolicy,
)
from core.services import audit
from core.services.archiving import (
    archive_beneficiary,
    erase_help_requests,
    redact_audit_events,
)
from core.services.beneficiaries import lock_open_file
from core.services.notifications import notify_archiving_soon

logger = logging.getLogger(__name__)

# The SQL pre-selection compares the last contact with a date moved back by whole months. At a
# month's end (31 January plus one month is 28 February) that differs from the exact limit by
# up to 3 days, so the pre-selection takes this margin and Python decides each file.
_MONTH_END_MARGIN = timedelta(days=3)

# The longest "conservation justifiée" an agent may record at once. Keeping a file longer
# takes a new decision, with its own reason, when this one ends.
MAX_HOLD_YEARS = 5


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` (negative: back), clipped to the month's last day,
    and to the first or last day Python can represent (a due date typed as 9999 exists)."""
    try:
        return day + relativedelta(months=months)
    except (ValueError, OverflowError):
        return date.max if months > 0 else date.min


def _latest_of(model: type[Followup] | type[HelpRequest], date_fields: list[str]) -> Subquery:
    """Return a subquery of the latest of ``date_fields`` and last changes among the file's
    ``model`` items."""
    latest = Greatest(
        Max(TruncDate("updated_at")), *(Max(name) for name in date_fields), output_field=DateField()
    )
    items = (
        model.objects.filter(beneficiary=OuterRef("pk"))
        .order_by()
        .values("beneficiary")
        .annotate(latest=latest)
        .values("latest")
    )
    return Subquery(items, output_field=DateField())


def with_last_contact(files: QuerySet[Beneficiary]) -> QuerySet[Beneficiary]:
    """Annotate ``files`` with ``last_contact``, as the module's docstring defines it."""
    followups = _latest_of(Followup, ["date", "due_date"])
    help_requests = _latest_of(
        HelpRequest,
        [
            "opening_date",
            "dispatch_date",
            "committee_date",
            "decision_date",
            "payment_date",
            "end_of_support_date",
            "due_date",
        ],
    )
    # PostgreSQL's GREATEST skips NULLs, so a file without interviews still gets a date.
    return files.annotate(last_contact=Greatest(TruncDate("updated_at"), followups, help_requests))


def retention_limit(last_contact: date, hold_until: date | None, policy: RetentionPolicy) -> date:
    """Return the day the file is archived: its last contact plus the policy's months, or the
    day after a "conservation justifiée" that ends on or after that."""
    limit = add_months(last_contact, policy.file_months)
    if hold_until is not None and hold_until >= limit:
        return hold_until + timedelta(days=1) if hold_until < date.max else date.max
    return limit


def limit_of(beneficiary: Beneficiary, policy: RetentionPolicy | None = None) -> date:
    """Return the day ``beneficiary`` reaches its retention limit without a new contact."""
    policy = policy or RetentionPolicy.load()
    last_contact = (
        with_last_contact(Beneficiary.objects.filter(pk=beneficiary.pk))
        .values_list("last_contact", flat=True)
        .get()
    )
    return retention_limit(last_contact, beneficiary.retention_hold_until, policy)


def is_planned(planned_on: date | None, limit: date) -> bool:
    """Return whether an announced archiving day still holds for a file with this limit."""
    return planned_on is not None and planned_on >= limit


def planned_archiving(beneficiary: Beneficiary) -> date | None:
    """Return the archiving day announced to the referents, if it still holds."""
    planned_on = beneficiary.archiving_planned_on
    if planned_on is None or beneficiary.status == BeneficiaryStatus.ARCHIVED:
        return None
    return planned_on if is_planned(planned_on, limit_of(beneficiary)) else None


# Settings and "conservation justifiée", set by agents


def update_policy(actor: Agent, values: dict[str, int]) -> RetentionPolicy:
    """Save the structure's retention durations and record what changed."""
    with transaction.atomic():
        policy = RetentionPolicy.load()
        before = {name: getattr(policy, name) for name in values}
        for name, value in values.items():
            setattr(policy, name, value)
        policy.save()
        changes = audit.diff(before, values)
        if changes:
            audit.record(actor, "update_retention_policy", policy, changes)
    logger.info("Retention durations updated by agent %s: %s", actor.pk, sorted(changes))
    return policy


def hold_file(actor: Agent, beneficiary: Beneficiary, until: date | None, reason: str) -> None:
    """Record (or, with ``until`` None, end) a "conservation justifiée" of the file.

    The file's last change date stays as it is: deciding to keep a file is no contact with the
    person. Raises AlreadyArchived when the file is archived.
    """
    with transaction.atomic():
        current = lock_open_file(beneficiary.pk)
        changes = audit.diff(
            {
                "retention_hold_until": _iso(current.retention_hold_until),
                "retention_hold_reason": current.retention_hold_reason,
            },
            {"retention_hold_until": _iso(until), "retention_hold_reason": reason},
        )
        if not changes:
            return
        # A new decision on how long to keep the file voids the archiving day announced
        # before it: the job announces a new one, with a full warning period.
        Beneficiary.objects.filter(pk=current.pk).update(
            retention_hold_until=until, retention_hold_reason=reason, archiving_planned_on=None
        )
        action = "hold_retention" if until is not None else "end_retention_hold"
        audit.record(actor, action, current, changes, beneficiary_id=current.pk)
    logger.info("Retention hold of beneficiary %s changed by agent %s", current.pk, actor.pk)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# The retention job


@dataclass
class RetentionResult:
    """Counts of one run in one structure, never personal data."""

    files_warned: int = 0
    notifications_created: int = 0
    files_archived: int = 0
    files_held: int = 0
    refused_requests_anonymized: int = 0
    consultations_deleted: int = 0
    audit_events_deleted: int = 0

    def add(self, other: "RetentionResult") -> None:
        for field in fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))

    def as_dict(self) -> dict[str, Any]:
        return {field.name: getattr(self, field.name) for field in fields(self)}


def apply_retention(today: date | None = None) -> RetentionResult:
    """Apply the current structure's retention policy on ``today``: warn, archive, anonymise
    refused aid requests and delete old consultation and audit rows.

    Running it twice on the same day does what running it once does. Each file is archived in
    its own transaction, so an interrupted run keeps what it finished.
    """
    today = today or timezone.localdate()
    policy = RetentionPolicy.load()
    result = RetentionResult()

    _apply_to_files(policy, today, result)
    result.refused_requests_anonymized = _anonymize_refused_requests(policy, today)
    # Rows are kept until the end of the day ``today`` minus the duration, in local time.
    cutoff = _start_of(add_months(today, -policy.consultation_months))
    result.consultations_deleted, _ = Consultation.objects.filter(consulted_at__lt=cutoff).delete()
    cutoff = _start_of(add_months(today, -policy.audit_months))
    result.audit_events_deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return result


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _apply_to_files(policy: RetentionPolicy, today: date, result: RetentionResult) -> None:
    warning_period = timedelta(days=policy.warning_days)
    warn_from = today + warning_period + _MONTH_END_MARGIN
    candidates = (
        with_last_contact(Beneficiary.objects.exclude(status=BeneficiaryStatus.ARCHIVED))
        .filter(last_contact__lte=add_months(warn_from, -policy.file_months))
        .order_by("pk")
    )
    for beneficiary in candidates.iterator(chunk_size=500):
        limit = retention_limit(beneficiary.last_contact, beneficiary.retention_hold_until, policy)
        if today < limit - warning_period:
            if beneficiary.retention_hold_until is not None:
                result.files_held += 1
            continue
        planned_on = beneficiary.archiving_planned_on
        if is_planned(planned_on, limit) and today >= planned_on:
            if _archive_if_still_due(beneficiary.pk, policy, today):
                result.files_archived += 1
            continue
        if not is_planned(planned_on, limit):
            planned_on = max(limit, today + warning_period)
        _warn(beneficiary, planned_on, result)


def _warn(beneficiary: Beneficiary, planned_on: date, result: RetentionResult) -> None:
    """Warn about the archiving on ``planned_on``, and record that date once an agent is
    warned. A later run warns only the agents not warned yet."""
    recipients, created = notify_archiving_soon(beneficiary, planned_on)
    result.notifications_created += created
    result.files_warned += 1 if created else 0
    if recipients and beneficiary.archiving_planned_on != planned_on:
        # update() leaves the last change date alone: warning is no contact with the person.
        Beneficiary.objects.filter(pk=beneficiary.pk).update(archiving_planned_on=planned_on)


def _archive_if_still_due(beneficiary_id: int, policy: RetentionPolicy, today: date) -> bool:
    """Archive the file if, read again under its row lock, its announced archiving day still
    holds and has come. Since the candidates were read, an agent may have archived it, met
    the person or recorded a "conservation justifiée", which takes the same lock. Returns
    whether it was archived."""
    with transaction.atomic():
        current = (
            with_last_contact(Beneficiary.objects.select_for_update(of=("self",)))
            .filter(pk=beneficiary_id)
            .exclude(status=BeneficiaryStatus.ARCHIVED)
            .first()
        )
        if current is None:
            return False
        limit = retention_limit(current.last_contact, current.retention_hold_until, policy)
        planned_on = current.archiving_planned_on
        if not is_planned(planned_on, limit) or today < planned_on:
            return False
        archive_beneficiary(None, current)
    return True


def _anonymize_refused_requests(policy: RetentionPolicy, today: date) -> int:
    """Erase the texts of refused aid requests decided more than ``refused_request_months``
    ago. The rows stay, without texts, for the statistics."""
    cutoff = add_months(today, -policy.refused_request_months)
    requests = (
        HelpRequest.objects.filter(status=HelpRequestStatus.REFUSED, anonymized_at__isnull=True)
        .annotate(decided_on=Coalesce("decision_date", "opening_date"))
        .filter(decided_on__lt=cutoff)
    )
    with transaction.atomic():
        ids = erase_help_requests(requests)
        redact_audit_events(AuditEvent.objects.filter(target_type="helprequest", target_id__in=ids))
    return len(ids)
