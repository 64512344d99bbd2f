from django.core.management.base import BaseCommand, CommandParser

from tenants.models import NationalUser


class Command(BaseCommand):
    help = "Give an e-mail address access to the national console (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args: object, **options: str) -> None:
        user, created = NationalUser.objects.update_or_create(
            email=options["email"].strip().lower(),
            defaults={
                "first_name": options["first_name"],
                "last_name": options["last_name"],
                "is_active": True,
            },
        )
        self.stdout.write(f"National user {user.email} {'created' if created else 'updated'}.")
