"""Export a whole structure as one ZIP archive: ``manage.py export_structure <slug> <path>``."""

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.models import Structure
from tenants.structure_archive import export_structure


class Command(BaseCommand):
    help = (
        "Write a structure's tables (CSV), stored files, manifest and column documentation to "
        "one ZIP archive, for the structure to take its data with it or for a restore with "
        "restore_structure. The export is recorded in the national audit trail."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Identifier (subdomain) of the structure.")
        parser.add_argument("path", type=Path, help="Archive file to create, e.g. ccas.zip.")

    def handle(self, *args: Any, **options: Any) -> None:
        structure = Structure.objects.filter(slug=options["slug"]).first()
        if structure is None:
            raise CommandError(
                f"Aucune structure n'a l'identifiant « {options['slug']} ». Vérifiez "
                "l'identifiant dans la console nationale."
            )
        path: Path = options["path"]
        if path.exists():
            raise CommandError(f"Le fichier {path} existe déjà : choisissez un autre nom.")

        try:
            # "x" refuses to overwrite a file created since the check above.
            with path.open("xb") as destination:
                summary = export_structure(structure, destination)
        except OSError as error:
            raise CommandError(f"Impossible d'écrire l'archive {path} : {error}.") from error
        except BaseException:
            # A half-written archive must not be mistaken for a complete one.
            if path.exists():
                os.unlink(path)
            raise
        self.stdout.write(
            f"Archive {path} écrite : {summary.tables} tables, {summary.rows} lignes, "
            f"{summary.files} fichiers, {summary.size} octets, SHA-256 {summary.sha256}."
        )
