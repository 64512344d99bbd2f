from django.core.management.base import BaseCommand

from tenants.provisioning import ensure_template_schema


class Command(BaseCommand):
    help = (
        "Build the template schema that new structures are cloned from, if the current "
        "migrations have none. Run it after migrate_schemas on each deployment."
    )

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"Template schema: {ensure_template_schema()}")
