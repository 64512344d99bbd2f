"""Retention: how long the structure keeps what it stores about people, and the job that
applies it.

A file's last contact with the person is the latest of these dates: the file's last change,
each interview's date, due date and last change, and each aid request's opening, dispatch,
commission, decision, payment, end-of-support and due dates and last change. A date in the
future (an aid paid until next year, a planned due date) pushes the limit back, because the
follow-up is still running. Reading a file, or the retention job's own work, is no contact.

The file's limit is its last contact plus the structure's ``file_months``. A "conservation
justifiée" whose end date is on or after that limit moves it to the day after that end date.
The referents are warned ``warning_days`` before the limit, and the file is archived on it.
"""

import logging
from dataclasses import dataclass, fields
from datetime import date, timedelta
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
    AlreadyArchived,
    archive_beneficiary,
    erase_help_requests,
    redact_audit_events,
)
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
    """Return the day ``beneficiary`` will be archived without a new contact."""
    policy = policy or RetentionPolicy.load()
    last_contact = (
        with_last_contact(Beneficiary.objects.filter(pk=beneficiary.pk))
        .values_list("last_contact", flat=True)
        .get()
    )
    return retention_limit(last_contact, beneficiary.retention_hold_until, policy)


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
    person.
    """
    with transaction.atomic():
        current = Beneficiary.objects.select_for_update().get(pk=beneficiary.pk)
        if current.status == BeneficiaryStatus.ARCHIVED:
            raise AlreadyArchived()
        changes = audit.diff(
            {
                "retention_hold_until": _iso(current.retention_hold_until),
                "retention_hold_reason": current.retention_hold_reason,
            },
            {"retention_hold_until": _iso(until), "retention_hold_reason": reason},
        )
        if not changes:
            return
        Beneficiary.objects.filter(pk=current.pk).update(
            retention_hold_until=until, retention_hold_reason=reason
        )
        action = "hold_retention" if until is not None else "end_retention_hold"
        audit.record(actor, action, current, changes, beneficiary_id=current.pk)
    logger.info("Retention hold of beneficiary %s changed by agent %s", current.pk, actor.pk)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


# The retention job


@dataclass
class RetentionResult:
    """What one run did in one structure: counts only, never personal data."""

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
    cutoff = timezone.now() - relativedelta(months=policy.consultation_months)
    result.consultations_deleted, _ = Consultation.objects.filter(consulted_at__lt=cutoff).delete()
    cutoff = timezone.now() - relativedelta(months=policy.audit_months)
    result.audit_events_deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return result


def _apply_to_files(policy: RetentionPolicy, today: date, result: RetentionResult) -> None:
    warn_from = today + timedelta(days=policy.warning_days) + _MONTH_END_MARGIN
    candidates = (
        with_last_contact(Beneficiary.objects.exclude(status=BeneficiaryStatus.ARCHIVED))
        .filter(last_contact__lte=add_months(warn_from, -policy.file_months))
        .order_by("pk")
    )
    for beneficiary in candidates.iterator(chunk_size=500):
        limit = retention_limit(beneficiary.last_contact, beneficiary.retention_hold_until, policy)
        if today >= limit:
            if _archive_if_still_due(beneficiary.pk, policy, today):
                result.files_archived += 1
        elif today >= limit - timedelta(days=policy.warning_days):
            created = notify_archiving_soon(beneficiary, limit)
            result.notifications_created += created
            result.files_warned += 1 if created else 0
        elif beneficiary.retention_hold_until is not None:
            result.files_held += 1


def _archive_if_still_due(beneficiary_id: int, policy: RetentionPolicy, today: date) -> bool:
    """Archive the file if, read again under its row lock, it still reached its limit: since
    the candidates were read, an agent may have archived it, met the person or recorded a
    "conservation justifiée" (which takes the same lock). Returns whether it was archived."""
    with transaction.atomic():
        current = (
            with_last_contact(Beneficiary.objects.select_for_update(of=("self",)))
            .filter(pk=beneficiary_id)
            .exclude(status=BeneficiaryStatus.ARCHIVED)
            .first()
        )
        if current is None:
            return False
        if today < retention_limit(current.last_contact, current.retention_hold_until, policy):
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
