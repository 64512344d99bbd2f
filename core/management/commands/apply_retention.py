"""The daily retention job: warn before archiving, archive, and delete what is too old."""

import logging
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core.services.retention import RetentionResult, apply_retention
from tenants.jobs import for_each_active_structure
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
        total = RetentionResult()

        def work(structure: Structure) -> None:
            result = apply_retention(options["date"])
            logger.info("Retention job of structure %s: %s", structure.schema_name, _line(result))
            self.stdout.write(f"{structure.schema_name}: {_line(result)}")
            total.add(result)

        run = for_each_active_structure("Retention job", work)
        summary = f"{run.summary()}; {_line(total)}"
        logger.info("Retention job finished: %s", summary)
        self.stdout.write(f"Total: {summary}")
        run.raise_if_failed()


def _line(result: RetentionResult) -> str:
    return ", ".join(f"{name}={count}" for name, count in result.as_dict().items())
