"""The daily notification job: reached due dates, then one digest e-mail per agent."""

import logging
from typing import Any

from django.core.management.base import BaseCommand

from core.services.notifications import notify_due_dates, send_digests
from tenants.jobs import for_each_active_structure
from tenants.models import Structure

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "In each active structure, notify the reached due dates and ends of support, then "
        "e-mail each active agent one digest of their unread notifications not e-mailed yet. "
        "Run it once a day; running it again the same day sends nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        emails = 0

        def work(structure: Structure) -> None:
            nonlocal emails
            emails += self._run(structure)

        run = for_each_active_structure("Daily digest", work)
        logger.info("Daily digest finished: %s, %d e-mails sent", run.summary(), emails)
        run.raise_if_failed()

    def _run(self, structure: Structure) -> int:
        """Run the job in the current structure's schema; return how many e-mails it sent."""
        created = notify_due_dates()
        result = send_digests(structure)
        logger.info(
            "Daily digest of structure %s: %d due-date notifications created, "
            "%d e-mails sent listing %d notifications, %d e-mails failed",
            structure.schema_name,
            created,
            result.emails_sent,
            result.notifications_sent,
            result.emails_failed,
        )
        return result.emails_sent
