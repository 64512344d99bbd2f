from django.core.management.base import BaseCommand, CommandParser

from tenants.provisioning import ensure_template_schema, prepare_spare_schemas


class Command(BaseCommand):
    help = (
        "Build the template schema that new structures are cloned from, if the current "
        "migrations have none, and keep spare copies of it ready so that provisioning a "
        "structure only renames one. Run it after migrate_schemas on each deployment and "
        "after provisioning structures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--spares", type=int, default=2, help="Spare copies to keep ready.")

    def handle(self, *args: object, **options: int) -> None:
        self.stdout.write(f"Template schema: {ensure_template_schema()}")
        created = prepare_spare_schemas(options["spares"])
        self.stdout.write(f"Spare schemas created: {created}")
