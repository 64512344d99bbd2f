import logging

from django.db import transaction

from core.models import Agent, Comment, Followup, HelpRequest
from core.services import audit
from core.services.beneficiaries import lock_open_file
from core.services.notifications import notify_new_comment

logger = logging.getLogger(__name__)


def add_comment(actor: Agent, item: Followup | HelpRequest, content: str) -> Comment:
    """Add a comment to an interview or aid request and notify the file's referents; raise
    AlreadyArchived when the file is archived."""
    with transaction.atomic():
        lock_open_file(item.beneficiary_id)
        comment = Comment.objects.create(
            author=actor,
            content=content,
            followup=item if isinstance(item, Followup) else None,
            help_request=item if isinstance(item, HelpRequest) else None,
        )
        audit.record(
            actor, "add_comment", comment, {"content": content}, beneficiary_id=item.beneficiary_id
        )
        notify_new_comment(comment, item)
    logger.info("Comment %s added by agent %s", comment.pk, actor.pk)
    return comment
