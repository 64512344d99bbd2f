"""Restore a structure's archive into a new structure:
``manage.py restore_structure <archive> --slug <new>``."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.structure_archive import ArchiveError
from tenants.structure_restore import restore_structure


class Command(BaseCommand):
    help = (
        "Create a new structure from an archive written by export_structure: its tables, "
        "stored files and sign-in directory. The new structure stays suspended until the "
        "national team reactivates it. Nothing is created when a check fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path, help="Archive written by export_structure.")
        parser.add_argument(
            "--slug", required=True, help="Identifier (subdomain) of the new structure."
        )
        parser.add_argument("--name", help="Name of the new structure (default: the archive's).")

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        if not archive.is_file():
            raise CommandError(f"Le fichier {archive} n'existe pas : vérifiez le chemin.")
        try:
            summary = restore_structure(archive, options["slug"], name=options["name"])
        except ArchiveError as error:
            raise CommandError(str(error)) from error
        structure = summary.structure
        self.stdout.write(
            f"Structure {structure.slug} restaurée : {summary.tables} tables, {summary.rows} "
            f"lignes, {summary.files} fichiers. Elle reste suspendue : vérifiez-la, puis "
            f"réactivez-la depuis la console nationale ({structure.url})."
        )
