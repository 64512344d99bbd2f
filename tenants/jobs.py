"""Running a periodic job in every active structure's schema."""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django_tenants.utils import get_public_schema_name, tenant_context

from tenants.models import Structure

logger = logging.getLogger(__name__)


@dataclass
class JobRun:
    """Counts of one job's pass over the structures."""

    name: str
    processed: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.processed} structures processed, {self.skipped} skipped, "
            f"{len(self.failed)} failed"
        )

    def raise_if_failed(self) -> None:
        """Raise CommandError naming the failed structures, so the command exits with an error."""
        if self.failed:
            raise CommandError(f"{self.name} failed for structures: {', '.join(self.failed)}")


def for_each_active_structure(name: str, work: Callable[[Structure], object]) -> JobRun:
    """Call ``work`` in the schema of each active structure, in schema order.

    A suspended structure keeps its data as it is and one being provisioned has none, so both
    are skipped. A structure whose work raises is logged and counted as failed, and the next
    structures still run.
    """
    run = JobRun(name)
    structures = Structure.objects.exclude(schema_name=get_public_schema_name()).order_by(
        "schema_name"
    )
    logger.info("%s started", name)
    for structure in structures:
        if structure.status != Structure.Status.ACTIVE:
            logger.info(
                "%s skips structure %s: status %s", name, structure.schema_name, structure.status
            )
            run.skipped += 1
            continue
        try:
            with tenant_context(structure):
                work(structure)
        except Exception:
            logger.exception("%s failed for structure %s", name, structure.schema_name)
            run.failed.append(structure.schema_name)
            continue
        run.processed += 1
    return run
