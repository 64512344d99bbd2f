"""The daily retention job: warn before archiving, archive, and delete what is too old."""

import logging
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import get_public_schema_name, tenant_context

from core.services.retention import RetentionResult, apply_retention
from tenants.models import Structure

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "In each active structure, warn the referents of files that reach their retention "
        "limit soon, archive the files that reached it, erase the texts of old refused aid "
        "requests and delete old consultation and audit rows, following the structure's "
        "retention durations. Run it once a day; running it again does nothing more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            help="Apply retention as on this day (YYYY-MM-DD) instead of today.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        structures = Structure.objects.exclude(schema_name=get_public_schema_name()).order_by(
            "schema_name"
        )
        logger.info("Retention job started")
        total = RetentionResult()
        processed = skipped = 0
        failed: list[str] = []
        for structure in structures:
            # A suspended structure keeps its data as it is; one being provisioned has none.
            if structure.status != Structure.Status.ACTIVE:
                logger.info(
                    "Retention job skips structure %s: status %s",
                    structure.schema_name,
                    structure.status,
                )
                skipped += 1
                continue
            try:
                with tenant_context(structure):
                    result = apply_retention(options["date"])
            except Exception:
                # One structure's failure must not keep the others' data past its limit.
                logger.exception("Retention job failed for structure %s", structure.schema_name)
                failed.append(structure.schema_name)
                continue
            logger.info("Retention job of structure %s: %s", structure.schema_name, _line(result))
            self.stdout.write(f"{structure.schema_name}: {_line(result)}")
            total.add(result)
            processed += 1

        summary = (
            f"{processed} structures processed, {skipped} skipped, {len(failed)} failed; "
            f"{_line(total)}"
        )
        logger.info("Retention job finished: %s", summary)
        self.stdout.write(f"Total: {summary}")
        if failed:
            raise CommandError(f"Retention job failed for structures: {', '.join(failed)}")


def _line(result: RetentionResult) -> str:
    return ", ".join(f"{name}={count}" for name, count in result.as_dict().items())
