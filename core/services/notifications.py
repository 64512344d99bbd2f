"""In-app notifications and the daily digest e-mail that lists them.

Each event notifies an agent through one ``Notification`` row whose ``key`` names the event
(``comment:<id>``, ``due:followup:<id>:<date>``...). The unique constraint on (recipient, key)
makes each event notify each agent at most once, however often the code that detects it runs.

Only active agents are notified, never the agent who caused the event, and only about items
the role matrix lets them see.
"""

import logging
import smtplib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice

from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from core.access import allows
from core.enums import (
    BeneficiaryStatus,
    FollowupStatus,
    HelpRequestStatus,
    NotificationKind,
    Role,
)
from core.models import Agent, Beneficiary, Comment, Document, Followup, HelpRequest, Notification
from core.roles import Action
from tenants.models import Structure

logger = logging.getLogger(__name__)

# A due date stops calling for action once the item reaches one of these statuses. An accepted
# or refused aid request stays open here: its due date can be a payment or an appeal deadline.
FOLLOWUP_CLOSED_STATUSES = [FollowupStatus.DONE]
HELP_REQUEST_CLOSED_STATUSES = [
    HelpRequestStatus.CLOSED_BY_BENEFICIARY,
    HelpRequestStatus.DISMISSED,
]

# Items read per batch by the due-date job, to bound its memory whatever the backlog.
DUE_DATE_BATCH_SIZE = 500
# The digest e-mail lists at most this many notifications and counts the others.
DIGEST_MAX_LISTED = 50
# Seconds before a silent mail server fails the send, so that the digest does not hold its
# row locks forever. Django's SMTP backend otherwise waits without limit.
DIGEST_SMTP_TIMEOUT_SECONDS = 30

_MESSAGE_LENGTH = Notification._meta.get_field("message").max_length or 300


# Links and labels


def history_link(item: Followup | HelpRequest) -> str:
    """Return the path of ``item`` in the "Historique" tab of its file."""
    anchor = "entretien" if isinstance(item, Followup) else "demande"
    url = reverse("core:beneficiary_detail", args=[item.beneficiary.file_number])
    return f"{url}?onglet=historique#{anchor}-{item.pk}"


def documents_link(beneficiary: Beneficiary) -> str:
    """Return the path of the "Documents" tab of ``beneficiary``'s file."""
    url = reverse("core:beneficiary_detail", args=[beneficiary.file_number])
    return f"{url}?onglet=documents"


def _item_label(item: Followup | HelpRequest) -> str:
    if isinstance(item, Followup):
        return f"l'entretien du {item.date:%d/%m/%Y}"
    return f"la demande d'aide du {item.opening_date:%d/%m/%Y}"


# Initials after which French elides "de" into "d'" ("d'Anne"). A leading "h" is left out
# because only a dictionary can distinguish a mute one ("d'Hélène") from an aspirated one.
_VOWELS = set("aeiouyàâäéèêëîïôöùûüÿæœ")


def _of_person(beneficiary: Beneficiary) -> str:
    """Return "de Jean MARTIN", "d'Anne DURAND", or "du dossier n°…" for a file without a name."""
    name = beneficiary.display_name
    if name == f"n°{beneficiary.file_number}":
        return f"du dossier {name}"
    if name[:1].lower() in _VOWELS:
        return f"d'{name}"
    return f"de {name}"


def _to_file(beneficiary: Beneficiary) -> str:
    """Return "au dossier de Jean MARTIN", "au dossier d'Anne DURAND", or "au dossier n°…"."""
    of_person = _of_person(beneficiary)
    if of_person.startswith("du dossier "):
        return "au dossier " + of_person.removeprefix("du dossier ")
    return f"au dossier {of_person}"


def _message(text: str) -> str:
    return Truncator(text).chars(_MESSAGE_LENGTH)


def _notification(
    recipient: Agent,
    kind: NotificationKind,
    beneficiary: Beneficiary,
    message: str,
    link: str,
    key: str,
) -> Notification:
    return Notification(
        recipient=recipient,
        kind=kind,
        beneficiary=beneficiary,
        message=_message(message),
        link=link,
        key=key,
    )


def _save(notifications: list[Notification]) -> None:
    # A row that exists already (same recipient and key) is skipped by the database, so two
    # runs at the same time cannot notify twice either.
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)


def _active_referents(beneficiary: Beneficiary, excluded: Agent | int) -> list[Agent]:
    excluded_id = excluded if isinstance(excluded, int) else excluded.pk
    return list(beneficiary.referents.filter(is_active=True).exclude(pk=excluded_id))


# Events raised by a request


def notify_new_comment(comment: Comment, item: Followup | HelpRequest) -> int:
    """Notify the active referents of ``item``'s file, other than the comment's author, who
    may read the comments of ``item``. Returns how many agents were notified.

    Runs in the caller's transaction: the comment and its notifications are saved together.
    """
    is_followup = isinstance(item, Followup)
    comments_action = Action.VIEW_FOLLOWUP if is_followup else Action.LIST_HELP_REQUEST_COMMENTS
    beneficiary = item.beneficiary
    recipients = [
        agent
        for agent in _active_referents(beneficiary, comment.author_id)
        # The same rule as the file's history, which shows comments to these agents only.
        if item.created_by_id == agent.pk or allows(agent, comments_action, item)
    ]
    message = (
        f"{comment.author.full_name} a commenté {_item_label(item)} {_of_person(beneficiary)}."
    )
    kind = "entretien" if is_followup else "demande"
    _save(
        [
            _notification(
                agent,
                NotificationKind.NEW_COMMENT,
                beneficiary,
                message,
                history_link(item),
                f"comment:{comment.pk}",
            )
            for agent in recipients
        ]
    )
    logger.info(
        "Comment %s on %s %s: %d agents notified", comment.pk, kind, item.pk, len(recipients)
    )
    return len(recipients)


def notify_new_document(document: Document) -> int:
    """Notify the active referents of the document's file, other than the agent who added it,
    who may see that document. Returns how many agents were notified.

    A confidential document notifies only the referents allowed to read it, and its name is
    left out of the message.
    """
    # Imported here because core.services.documents imports this module.
    from core.services.documents import documents_for

    beneficiary = document.beneficiary
    recipients = [
        agent
        for agent in _active_referents(beneficiary, document.created_by_id)
        # The documents tab's own rule, confidentiality included: one query per referent.
        if documents_for(agent, beneficiary).filter(pk=document.pk).exists()
    ]
    if document.is_confidential:
        what = "un document confidentiel"
    else:
        what = f"le document « {document.name} »"
    message = f"{document.created_by.full_name} a ajouté {what} {_to_file(beneficiary)}."
    _save(
        [
            _notification(
                agent,
                NotificationKind.NEW_DOCUMENT,
                beneficiary,
                message,
                documents_link(beneficiary),
                f"document:{document.pk}",
            )
            for agent in recipients
        ]
    )
    logger.info("Document %s: %d agents notified", document.pk, len(recipients))
    return len(recipients)


# Due dates, detected by the daily job


def notify_due_dates(today: date | None = None) -> int:
    """Notify the reached due dates and ends of support of the current structure.

    An interview or aid request whose ``due_date`` is today or earlier, and that is not done
    or closed, notifies its author and the file's referents. An aid request whose
    ``end_of_support_date`` is today or earlier does the same. Archived files are left out.
    Running it again never notifies an agent twice about the same date, and a changed date
    is a new event.
    Returns how many notifications were created.
    """
    today = today or timezone.localdate()
    followups = Followup.objects.filter(due_date__lte=today).exclude(
        status__in=FOLLOWUP_CLOSED_STATUSES
    )
    due_requests = HelpRequest.objects.filter(due_date__lte=today).exclude(
        status__in=HELP_REQUEST_CLOSED_STATUSES
    )
    ending_requests = HelpRequest.objects.filter(end_of_support_date__lte=today)

    created = 0
    for items, build in (
        (followups, _due_date_notifications),
        (due_requests, _due_date_notifications),
        (ending_requests, _end_of_support_notifications),
    ):
        for batch in _batches(_with_recipients(items)):
            created += _save_new([notification for item in batch for notification in build(item)])
    return created


def _with_recipients(items: QuerySet) -> Iterator[Followup | HelpRequest]:  # type: ignore[type-arg]
    active_referents = Prefetch(
        "beneficiary__referents",
        queryset=Agent.objects.filter(is_active=True),
        to_attr="active_referents",
    )
    return (
        items.exclude(beneficiary__status=BeneficiaryStatus.ARCHIVED)
        .select_related("beneficiary", "created_by")
        .prefetch_related(active_referents)
        .order_by("pk")
        .iterator(chunk_size=DUE_DATE_BATCH_SIZE)
    )


def _batches(
    items: Iterator[Followup | HelpRequest],
) -> Iterator[list[Followup | HelpRequest]]:
    while batch := list(islice(items, DUE_DATE_BATCH_SIZE)):
        yield batch


def _recipients(item: Followup | HelpRequest) -> list[Agent]:
    """Return the item's author and its file's referents, if active and still allowed to see
    the item in the file's history."""
    referents = item.beneficiary.active_referents
    # Lets ``allows`` check the referent scope without a query per item.
    item.beneficiary.referent_ids = {agent.pk for agent in referents}
    candidates = {agent.pk: agent for agent in referents}
    if item.created_by.is_active:
        candidates.setdefault(item.created_by_id, item.created_by)
    action = Action.LIST_FOLLOWUPS if isinstance(item, Followup) else Action.LIST_HELP_REQUESTS
    return [agent for agent in candidates.values() if allows(agent, action, item)]


def _due_date_notifications(item: Followup | HelpRequest) -> Iterable[Notification]:
    assert item.due_date is not None
    kind = "followup" if isinstance(item, Followup) else "help_request"
    message = (
        f"L'échéance du {item.due_date:%d/%m/%Y} est atteinte pour {_item_label(item)} "
        f"{_of_person(item.beneficiary)}."
    )
    for agent in _recipients(item):
        yield _notification(
            agent,
            NotificationKind.DUE_DATE,
            item.beneficiary,
            message,
            history_link(item),
            f"due:{kind}:{item.pk}:{item.due_date.isoformat()}",
        )


def _end_of_support_notifications(item: HelpRequest) -> Iterable[Notification]:
    assert item.end_of_support_date is not None
    message = (
        f"La prise en charge de {_item_label(item)} {_of_person(item.beneficiary)} "
        f"a pris fin le {item.end_of_support_date:%d/%m/%Y}."
    )
    for agent in _recipients(item):
        yield _notification(
            agent,
            NotificationKind.END_OF_SUPPORT,
            item.beneficiary,
            message,
            history_link(item),
            f"end:help_request:{item.pk}:{item.end_of_support_date.isoformat()}",
        )


def _save_new(notifications: list[Notification]) -> int:
    """Save the notifications whose (recipient, key) does not exist yet; return how many."""
    if not notifications:
        return 0
    existing = set(
        Notification.objects.filter(key__in={n.key for n in notifications}).values_list(
            "recipient_id", "key"
        )
    )
    new = [n for n in notifications if (n.recipient_id, n.key) not in existing]
    _save(new)
    return len(new)


# Retention, detected by the retention job


def notify_archiving_soon(beneficiary: Beneficiary, archiving_date: date) -> tuple[int, int]:
    """Warn the file's active referents, or the active managers when it has none, that the
    retention job will archive it on ``archiving_date``.

    Returns how many agents are warned (0 when the structure has nobody to warn) and how many
    notifications were created: each agent is warned once per date, and a later date is a new
    warning.
    """
    recipients = list(beneficiary.referents.filter(is_active=True))
    if not recipients:
        recipients = list(Agent.objects.filter(is_active=True, role=Role.MANAGER))
    message = (
        f"Sans nouveau contact, le dossier {_of_person(beneficiary)} sera archivé le "
        f"{archiving_date:%d/%m/%Y} et ses informations personnelles effacées. Pour le garder, "
        "enregistrez une conservation justifiée sur le dossier."
    )
    url = reverse("core:beneficiary_detail", args=[beneficiary.file_number])
    key = f"archiving:{beneficiary.pk}:{archiving_date.isoformat()}"
    created = _save_new(
        [
            _notification(agent, NotificationKind.ARCHIVING_SOON, beneficiary, message, url, key)
            for agent in recipients
        ]
    )
    return len(recipients), created


# The daily digest


@dataclass
class DigestResult:
    emails_sent: int = 0
    notifications_sent: int = 0
    emails_failed: int = 0


def send_digests(structure: Structure) -> DigestResult:
    """E-mail each active agent of the current structure, once, the unread notifications not
    e-mailed yet, and mark them as e-mailed. Running it again sends nothing twice.

    A mail server failure for one agent is logged and leaves that agent's notifications for
    the next run; the other agents still get their e-mail.
    """
    result = DigestResult()
    recipient_ids = (
        _pending(Notification.objects.filter(recipient__is_active=True))
        .values_list("recipient_id", flat=True)
        .distinct()
        .order_by("recipient_id")
    )
    for agent_id in list(recipient_ids):
        try:
            count = _send_digest(structure, agent_id)
        except (OSError, smtplib.SMTPException) as error:
            # The error text can quote the address: only its type is logged.
            logger.error("Daily digest to agent %s failed: %s", agent_id, type(error).__name__)
            result.emails_failed += 1
            continue
        if count:
            result.emails_sent += 1
            result.notifications_sent += count
    return result


def _pending(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    # A notification already read in the application is not e-mailed.
    return notifications.filter(emailed_at__isnull=True, is_read=False)


def _send_digest(structure: Structure, agent_id: int) -> int:
    """Send one agent their digest; return how many notifications it listed (0: no e-mail)."""
    with transaction.atomic():
        agent = Agent.objects.filter(pk=agent_id, is_active=True).first()
        if agent is None:
            return 0
        # The lock keeps a concurrent run from sending the same rows: it skips them.
        pending = list(
            _pending(Notification.objects.filter(recipient=agent))
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("beneficiary")
            .order_by("created_at", "id")
        )
        if not pending:
            return 0
        send_mail(
            subject=f"Vos notifications sur Suivi Social — {structure.name}",
            message=_digest_text(structure, agent, pending),
            from_email=None,
            recipient_list=[agent.email],
            connection=get_connection(timeout=DIGEST_SMTP_TIMEOUT_SECONDS),
        )
        # NOTE: the e-mail leaves before this transaction commits. If the process dies or the
        # commit fails in between, the rows stay unmarked and the next run sends them again:
        # at worst a duplicate e-mail, never a lost one.
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            emailed_at=timezone.now()
        )
    logger.info("Daily digest sent to agent %s: %d notifications", agent_id, len(pending))
    return len(pending)


def _digest_text(structure: Structure, agent: Agent, notifications: list[Notification]) -> str:
    base_url = structure.url.rstrip("/")
    listed = notifications[:DIGEST_MAX_LISTED]
    lines = [
        {
            "kind": NotificationKind(notification.kind).label,
            "file_number": notification.beneficiary.file_number if notification.beneficiary else "",
            "day": timezone.localtime(notification.created_at).date(),
            "url": base_url + (notification.link or reverse("core:notification_list")),
        }
        for notification in listed
    ]
    context = {
        "agent": agent,
        "structure": structure,
        "lines": lines,
        "others": len(notifications) - len(listed),
        "notifications_url": base_url + reverse("core:notification_list"),
    }
    return render_to_string("core/emails/digest.txt", context)
