from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants.communes import find_commune
from tenants.models import Structure
from tenants.provisioning import ManagerData, StructureData, provision_structure


class Command(BaseCommand):
    help = (
        "Create a structure and invite its first manager. Running it again with the same slug "
        "changes nothing and exits successfully."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="Subdomain of the structure, e.g. ccas-autun.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", choices=Structure.Kind.values, default=Structure.Kind.CCAS)
        parser.add_argument("--siret", action="append", default=[], dest="sirets")
        parser.add_argument("--insee-code", default="", help="Fills the town hall address.")
        parser.add_argument("--epci-siren", default="")
        parser.add_argument("--address", default="")
        parser.add_argument("--phone", default="")
        parser.add_argument("--email", default="")
        parser.add_argument("--manager-email", required=True)
        parser.add_argument("--manager-first-name", required=True)
        parser.add_argument("--manager-last-name", required=True)

    def handle(self, *args: object, **options: str) -> None:
        address, phone = options["address"], options["phone"]
        if options["insee_code"]:
            commune = find_commune(options["insee_code"])
            if commune is None:
                raise CommandError(f"No commune has the INSEE code {options['insee_code']}.")
            address = address or commune.town_hall_address
            phone = phone or commune.town_hall_phone

        data = StructureData(
            slug=options["slug"],
            name=options["name"],
            kind=options["kind"],
            address=address,
            sirets=list(options["sirets"]),
            insee_code=options["insee_code"],
            epci_siren=options["epci_siren"],
            phone=phone,
            email=options["email"],
        )
        manager = ManagerData(
            email=options["manager_email"],
            first_name=options["manager_first_name"],
            last_name=options["manager_last_name"],
        )
        try:
            structure, created = provision_structure(data, manager)
        except ValidationError as error:
            raise CommandError(f"Invalid structure: {error.message_dict}") from error
        state = "created" if created else "already existed"
        self.stdout.write(f"Structure {structure.slug} {state}: {structure.url}")
