"""The daily notification job: reached due dates, then one digest e-mail per agent."""

import logging
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, tenant_context

from core.services.notifications import notify_due_dates, send_digests
from tenants.models import Structure

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "In each active structure, notify the reached due dates and ends of support, then "
        "e-mail each active agent one digest of their unread notifications not e-mailed yet. "
        "Run it once a day; running it again the same day sends nothing twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        structures = Structure.objects.exclude(schema_name=get_public_schema_name()).order_by(
            "schema_name"
        )
        logger.info("Daily digest started")
        processed = skipped = emails = 0
        failed: list[str] = []
        for structure in structures:
            if structure.status != Structure.Status.ACTIVE:
                logger.info(
                    "Daily digest skips structure %s: status %s",
                    structure.schema_name,
                    structure.status,
                )
                skipped += 1
                continue
            try:
                with tenant_context(structure):
                    emails += self._run(structure)
            except Exception:
                # One structure's failure must not deprive the others of their digest.
                logger.exception("Daily digest failed for structure %s", structure.schema_name)
                failed.append(structure.schema_name)
                continue
            processed += 1
        logger.info(
            "Daily digest finished: %d structures processed, %d skipped, %d failed, "
            "%d e-mails sent",
            processed,
            skipped,
            len(failed),
            emails,
        )
        if failed:
            raise CommandError(f"Daily digest failed for structures: {', '.join(failed)}")

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
