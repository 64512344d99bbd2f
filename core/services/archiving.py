"""Archiving a beneficiary file: an irreversible anonymisation that keeps what statistics need.

An archived file keeps its number, status, gender, family situation, city, year of birth (for
age brackets), referents, follow-up types, and creation and change dates. Its interviews and
aid requests keep every date, status, type, medium and amount. Everything else about the
person is erased: identity, contact, address, household, health, income, external bodies,
free texts, syntheses, comments, documents and their stored files, notifications, links from
other files' households, the personal values recorded in the audit trail, and the searches of
list exports that could name the person.

The minutes of each closed commission session that examined the person are rebuilt with
"Personne archivée" in place of the name and without the refusal reason; their decisions,
amounts and aid types stay. The person's requests leave the sessions still planned, and no
decision letter can be produced for them any more.
"""

import logging
from difflib import SequenceMatcher
from typing import Any

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from core.duplicates import CLOSE_SPELLING_RATIO
from core.enums import BeneficiaryStatus
from core.models import (
    Agent,
    AuditEvent,
    Beneficiary,
    Comment,
    Document,
    Followup,
    HelpRequest,
    Notification,
    Relative,
)
from core.services import audit

# AlreadyArchived is re-exported: callers of archive_beneficiary catch it from here.
from core.services.beneficiaries import AlreadyArchived as AlreadyArchived
from core.services.beneficiaries import lock_open_file
from core.services.committees import erase_person_from_minutes, leave_planned_sessions
from core.services.documents import delete_stored_files_on_commit
from core.text import normalize

logger = logging.getLogger(__name__)

# The value that replaces a personal value inside the audit trail's recorded changes.
ERASED = "(effacé à l'archivage)"

# Beneficiary fields that archiving keeps; every other field goes back to empty, so a field
# added later is erased unless it is listed here.
KEPT_BENEFICIARY_FIELDS = {
    "id",
    "file_number",
    "status",
    "gender",
    "family_situation",
    # The commune, for the "by city" figures; city_key follows it in save().
    "city",
    "city_key",
    "birth_year",
    "archived_at",
    "archived_by",
    "created_by",
    "created_at",
    "updated_at",
    "version",
    "search_text",
}

# Keys of recorded changes whose values archiving keeps, by audited model. Ids of the file and
# its items are kept everywhere. Values of other keys become ERASED.
_KEPT_EVERYWHERE = {"beneficiary", "followup", "help_request", "author", "created_by"}
_KEPT_AUDIT_KEYS: dict[str, set[str]] = {
    "beneficiary": {"status", "gender", "family_situation", "referents"},
    "relative": {"relationship"},
    "document": {"kind", "themes", "is_confidential", "content_type", "size"},
    "comment": set(),
}


def erased_item_fields(model: type[Followup] | type[HelpRequest]) -> list[str]:
    """Return the fields of an interview or aid request that archiving erases: its free texts,
    that is every text field without a fixed list of choices."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField) and not field.choices
    ]


def _kept_audit_keys(target_type: str) -> set[str]:
    if target_type == "followup":
        model: type[models.Model] = Followup
    elif target_type == "helprequest":
        model = HelpRequest
    else:
        return _KEPT_EVERYWHERE | _KEPT_AUDIT_KEYS.get(target_type, set())
    erased = set(erased_item_fields(model))
    kept = {field.name for field in model._meta.get_fields() if field.name not in erased}
    return _KEPT_EVERYWHERE | kept


def archive_beneficiary(actor: Agent | None, beneficiary: Beneficiary) -> Beneficiary:
    """Anonymise ``beneficiary`` for good and set its status to archived.

    ``actor`` is None when the retention job archives the file. The stored document files are
    deleted once the transaction commits. Raises AlreadyArchived when the file is archived.
    """
    with transaction.atomic():
        current = lock_open_file(beneficiary.pk)
        previous_status = current.status

        _erase_household(actor, current)
        leave_planned_sessions(actor, current)
        erase_person_from_minutes(actor, current)
        _erase_accompaniments(current)
        _erase_documents(current)
        Notification.objects.filter(beneficiary=current).delete()
        redact_audit_events(AuditEvent.objects.filter(beneficiary_id=current.pk))
        _erase_export_searches(current)
        _erase_file(actor, current)

        audit.record(
            actor,
            "archive_beneficiary",
            current,
            {"status": [previous_status, BeneficiaryStatus.ARCHIVED.value]},
            beneficiary_id=current.pk,
            object_version=current.version,
        )
    logger.info(
        "Beneficiary %s archived by %s",
        current.pk,
        f"agent {actor.pk}" if actor is not None else "the retention job",
    )
    return current


def _erase_file(actor: Agent | None, beneficiary: Beneficiary) -> None:
    if beneficiary.birth_date is not None:
        beneficiary.birth_year = beneficiary.birth_date.year
    for field in Beneficiary._meta.concrete_fields:
        if field.name not in KEPT_BENEFICIARY_FIELDS:
            setattr(beneficiary, field.attname, None if field.null else field.get_default())
    beneficiary.status = BeneficiaryStatus.ARCHIVED
    beneficiary.archived_at = timezone.now()
    beneficiary.archived_by = actor
    beneficiary.version = F("version") + 1
    # save() recomputes search_text (now the file number only) and city_key.
    beneficiary.save()
    beneficiary.refresh_from_db(fields=["version"])


# Words of a search shorter than this are too common to point at one person ("de", "m").
_MIN_SEARCH_WORD_LENGTH = 3


def _erase_export_searches(beneficiary: Beneficiary) -> None:
    """Erase the free-text search recorded by list exports when it could name the file: one of
    its words is part of the file's names, file number or phone numbers, or a close spelling of
    one of them. Those audit rows belong to no file, so the file's own redaction misses them."""
    file_words = normalize(
        " ".join([beneficiary.search_text, beneficiary.email, beneficiary.social_security_number])
    ).split()
    changed = []
    # NOTE: no index serves this filter, so each archiving reads the export rows of the trail.
    exports = AuditEvent.objects.filter(
        action__startswith="export_", changes__filters__has_key="recherche"
    )
    for event in exports:
        search = event.changes["filters"]["recherche"]
        if isinstance(search, str) and _names_file(normalize(search), file_words):
            event.changes["filters"]["recherche"] = ERASED
            changed.append(event)
    AuditEvent.objects.bulk_update(changed, ["changes"], batch_size=500)


def _names_file(search: str, file_words: list[str]) -> bool:
    # Digits typed with spaces ("06 12 34 56") are matched as one number, as the search does.
    words = [*search.split(), search.replace(" ", "")]
    return any(
        word in file_word or SequenceMatcher(None, word, file_word).ratio() >= CLOSE_SPELLING_RATIO
        for word in words
        if len(word) >= _MIN_SEARCH_WORD_LENGTH
        for file_word in file_words
    )


def _erase_household(actor: Agent | None, beneficiary: Beneficiary) -> None:
    """Delete the file's relatives, and unlink it from the households of other files."""
    Relative.objects.filter(beneficiary=beneficiary).delete()
    # The other file keeps its relative (a spouse, a parent) but no longer points here.
    for relative in Relative.objects.filter(linked_beneficiary=beneficiary):
        audit.record(
            actor,
            "update_relative",
            relative,
            {"linked_beneficiary": [beneficiary.pk, None]},
            beneficiary_id=relative.beneficiary_id,
        )
    Relative.objects.filter(linked_beneficiary=beneficiary).update(linked_beneficiary=None)


def _erase_accompaniments(beneficiary: Beneficiary) -> None:
    """Erase the free texts of the file's interviews and aid requests and delete their
    comments; dates, statuses, types, mediums and amounts stay for the statistics."""
    followups = Followup.objects.filter(beneficiary=beneficiary)
    help_requests = HelpRequest.objects.filter(beneficiary=beneficiary)
    Comment.objects.filter(followup__in=followups).delete()
    followups.update(**{name: "" for name in erased_item_fields(Followup)})
    erase_help_requests(help_requests)


def erase_help_requests(help_requests: models.QuerySet[HelpRequest]) -> list[int]:
    """Erase the free texts of ``help_requests``, delete their comments, mark them anonymised
    and return their ids. Their own audit rows are left to the caller."""
    ids = list(help_requests.values_list("pk", flat=True))
    if not ids:
        return ids
    comment_ids = list(Comment.objects.filter(help_request_id__in=ids).values_list("pk", flat=True))
    redact_audit_events(AuditEvent.objects.filter(target_type="comment", target_id__in=comment_ids))
    Comment.objects.filter(pk__in=comment_ids).delete()
    HelpRequest.objects.filter(pk__in=ids).update(
        anonymized_at=timezone.now(), **{name: "" for name in erased_item_fields(HelpRequest)}
    )
    return ids


def _erase_documents(beneficiary: Beneficiary) -> None:
    documents = list(Document.objects.filter(beneficiary=beneficiary))
    delete_stored_files_on_commit(document.file for document in documents)
    Document.objects.filter(pk__in=[document.pk for document in documents]).delete()


def redact_audit_events(events: models.QuerySet[AuditEvent]) -> int:
    """Replace the personal values inside the recorded changes of ``events`` with ERASED;
    return how many rows changed."""
    changed = []
    for event in events.only("pk", "action", "target_type", "changes"):
        kept = _kept_audit_keys(event.target_type)
        redacted = {
            name: value if name in kept else _erased(value, event.action)
            for name, value in event.changes.items()
        }
        if redacted != event.changes:
            event.changes = redacted
            changed.append(event)
    AuditEvent.objects.bulk_update(changed, ["changes"], batch_size=500)
    return len(changed)


def _erased(value: Any, action: str) -> Any:
    # An update records [old, new]: each side is erased, and an empty side stays empty so the
    # history still reads "(vide)" there.
    if action.startswith("update") and isinstance(value, list) and len(value) == 2:
        return [_erased_value(side) for side in value]
    return _erased_value(value)


def _erased_value(value: Any) -> Any:
    if value is None or value == "" or value == []:
        return value
    return ERASED
