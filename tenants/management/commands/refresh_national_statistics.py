"""Refresh the national statistics snapshot: ``manage.py refresh_national_statistics``.

Safe to interrupt and to run again: each structure's rows are replaced in one transaction, and
the figures are published (suppression, national totals) in one more at the end.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tenants.national_statistics import add_months, month_start, refresh


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError as error:
        raise CommandError(f"Mois invalide : « {value} » (attendu AAAA-MM).") from error


class Command(BaseCommand):
    help = "Recalcule les statistiques nationales de chaque structure active, mois par mois."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--months", type=int, default=24, help="nombre de mois jusqu'au mois en cours (24)"
        )
        parser.add_argument("--since", help="premier mois, AAAA-MM (remplace --months)")
        parser.add_argument("--until", help="dernier mois, AAAA-MM (par défaut le mois en cours)")
        parser.add_argument("--structure", action="append", dest="slugs", help="identifiant")

    def handle(self, *args: object, **options: object) -> None:
        until = _month(str(options["until"])) if options["until"] else None
        end = until or month_start(timezone.localdate())
        if options["since"]:
            start = _month(str(options["since"]))
        else:
            months = int(options["months"])  # type: ignore[call-overload]
            if months < 1:
                raise CommandError("--months doit valoir au moins 1.")
            start = add_months(end, 1 - months)
        if start > end:
            raise CommandError("Le premier mois est après le dernier.")
        report = refresh(start, end, slugs=options["slugs"] or None, log=self.stdout.write)
        for slug, reason in report.skipped:
            self.stdout.write(self.style.WARNING(f"Ignorée : {slug} ({reason})"))
        for slug, error in report.failed:
            self.stderr.write(self.style.ERROR(f"Échec : {slug} ({error})"))
        if report.failed:
            raise CommandError(f"{len(report.failed)} structure(s) en échec.")
