"""Provision the demo structures with their agents and synthetic beneficiaries."""

import json
import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django_tenants.utils import tenant_context
from faker import Faker

from core.enums import AccommodationMode, FamilySituation, Gender, Role
from core.models import Agent, Beneficiary
from core.services.agents import invite_agent
from core.services.beneficiaries import create_beneficiary
from tenants.communes import find_commune, neighbouring_communes
from tenants.models import NationalUser, Structure
from tenants.provisioning import ManagerData, StructureData, provision_structure

IDENTITIES_FILE = settings.BASE_DIR / "deploy" / "oidc-provider" / "identities.json"

# Real communes from the public referential; the SIRETs are the demo identities' fictitious ones.
DEMO_STRUCTURES = [
    {"slug": "autun", "insee_code": "71014", "name": "CCAS d'Autun", "siret": "00000001800010"},
    {"slug": "nevers", "insee_code": "58194", "name": "CCAS de Nevers", "siret": "00000002600013"},
]


class Command(BaseCommand):
    help = "Create the demo structures, agents and synthetic beneficiaries (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--beneficiaries", type=int, default=60, help="Files per structure.")

    def handle(self, *args: Any, **options: Any) -> None:
        identities = json.loads(Path(IDENTITIES_FILE).read_text(encoding="utf-8"))
        for identity in identities:
            if identity.get("national"):
                NationalUser.objects.update_or_create(
                    email=identity["email"].lower(),
                    defaults={
                        "first_name": identity["given_name"],
                        "last_name": identity["usual_name"],
                    },
                )

        for index, spec in enumerate(DEMO_STRUCTURES):
            structure = self._provision(spec, identities)
            with tenant_context(structure):
                self._invite_agents(structure, identities)
                self._create_beneficiaries(
                    options["beneficiaries"], seed=index, insee_code=spec["insee_code"]
                )
            self.stdout.write(f"{structure.name}: {structure.url}")

        self.stdout.write("\nIdentités de démonstration (page de connexion du fournisseur local) :")
        names = {spec["slug"]: spec["name"] for spec in DEMO_STRUCTURES}
        for identity in identities:
            roles = ", ".join(
                f"{Role(role).label[0].lower()}{Role(role).label[1:]} ({names[slug]})"
                for slug, role in identity["demo_roles"].items()
            )
            if identity.get("national"):
                roles = "équipe nationale (console)"
            self.stdout.write(f"  {identity['email']:40} {roles or 'aucune invitation'}")

    def _provision(self, spec: dict[str, str], identities: list[dict[str, Any]]) -> Structure:
        commune = find_commune(spec["insee_code"])
        assert commune is not None, spec["insee_code"]
        manager = next(i for i in identities if i["demo_roles"].get(spec["slug"]) == Role.MANAGER)
        structure, _ = provision_structure(
            StructureData(
                slug=spec["slug"],
                name=spec["name"],
                kind=Structure.Kind.CCAS,
                address=commune.town_hall_address,
                sirets=[spec["siret"]],
                insee_code=commune.insee_code,
                phone=commune.town_hall_phone,
            ),
            ManagerData(manager["email"], manager["given_name"], manager["usual_name"]),
            send_invitation=False,
        )
        return structure

    def _invite_agents(self, structure: Structure, identities: list[dict[str, Any]]) -> None:
        for identity in identities:
            role = identity["demo_roles"].get(structure.slug)
            if role and not Agent.objects.filter(email=identity["email"].lower()).exists():
                invite_agent(
                    None,
                    email=identity["email"],
                    first_name=identity["given_name"],
                    last_name=identity["usual_name"],
                    role=role,
                    send_email=False,
                )

    def _create_beneficiaries(self, count: int, seed: int, insee_code: str) -> None:
        if Beneficiary.objects.exists():
            return
        fake = Faker("fr_FR")
        fake.seed_instance(seed)
        rng = random.Random(seed)
        # Most people live in the structure's commune, the others nearby, as in a real CCAS.
        home = find_commune(insee_code)
        assert home is not None, insee_code
        communes = [home] * 10 + neighbouring_communes(home, 6)
        agents = list(Agent.objects.exclude(role=Role.RECEPTION_AGENT))
        author = agents[0]
        for index in range(count):
            gender = rng.choice([Gender.FEMALE, Gender.MALE])
            commune = rng.choice(communes)
            first_name = (
                fake.first_name_female() if gender == Gender.FEMALE else fake.first_name_male()
            )
            values = {
                "gender": gender,
                "civility": "miss" if gender == Gender.FEMALE else "mister",
                "first_names": first_name,
                "usual_name": fake.last_name(),
                "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=95),
                "street_number": str(rng.randint(1, 120)),
                "street": fake.street_name(),
                "postal_code": commune.postal_code,
                "city": commune.name,
                "phone_1": fake.numerify("06 ## ## ## ##"),
                "family_situation": rng.choice(FamilySituation.values),
                "accommodation_mode": rng.choice(AccommodationMode.values),
            }
            # One file with accents and a hyphen, to try the search that ignores them.
            if index == 0:
                values.update(
                    first_names="Éloïse",
                    usual_name="Lefèvre-Dupont",
                    gender=Gender.FEMALE,
                    civility="miss",
                )
            create_beneficiary(author, values, [rng.choice(agents)])
