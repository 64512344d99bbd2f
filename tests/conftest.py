"""Fixtures shared by the whole suite.

Two structures, ``alpha`` and ``beta``, are provisioned once per test database and committed.
Each test then runs in a transaction that is rolled back, so what a test changes is gone for
the next one. Personas: in each structure a manager, a social worker, an instructor, a
reception agent and a referent.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from core.enums import Role
from core.models import Agent
from core.signin.views import BACKEND_PATH
from tenants.models import NationalUser, Structure
from tenants.provisioning import ManagerData, StructureData, provision_structure

PERSONA_ROLES = [
    Role.MANAGER,
    Role.SOCIAL_WORKER,
    Role.INSTRUCTOR,
    Role.RECEPTION_AGENT,
    Role.REFERENT,
]


@dataclass
class Site:
    structure: Structure
    agents: dict[str, Agent]

    @property
    def host(self) -> str:
        return self.structure.host

    def client(self, role: str | None = None) -> Client:
        """Return a client on this structure's host, signed in as the persona of ``role``."""
        client = Client(HTTP_HOST=self.host)
        if role is not None:
            with tenant_context(self.structure):
                client.force_login(self.agents[role], backend=BACKEND_PATH)
        return client

    def activate(self) -> None:
        connection.set_tenant(self.structure)


def _provision_site(slug: str, insee_code: str) -> None:
    structure, _ = provision_structure(
        StructureData(
            slug=slug,
            name=f"CCAS {slug.capitalize()}",
            kind=Structure.Kind.CCAS,
            address="1 place de la Mairie",
            sirets=[f"{insee_code}000000001"],
            insee_code=insee_code,
        ),
        ManagerData(f"manager@{slug}.test", "Manon", "Responsable"),
    )
    with tenant_context(structure):
        for role in PERSONA_ROLES[1:]:
            Agent.objects.get_or_create(
                email=f"{role}@{slug}.test",
                defaults={"first_name": role.label, "last_name": slug, "role": role},
            )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        _provision_site("alpha", "71014")
        _provision_site("beta", "58194")
        connection.set_schema_to_public()


def _site(slug: str) -> Site:
    structure = Structure.objects.get(slug=slug)
    with tenant_context(structure):
        agents = {
            agent.role: agent for agent in Agent.objects.filter(email__endswith=f"@{slug}.test")
        }
    return Site(structure, agents)


@pytest.fixture
def alpha(db) -> Site:  # type: ignore[no-untyped-def]
    return _site("alpha")


@pytest.fixture
def beta(db) -> Site:  # type: ignore[no-untyped-def]
    return _site("beta")


@pytest.fixture(autouse=True)
def _public_schema_after_test() -> Iterator[None]:
    yield
    connection.set_schema_to_public()


@pytest.fixture
def national(db) -> Client:  # type: ignore[no-untyped-def]
    """A client on the public host, signed in as a member of the national team, that returns
    the 500 page as a server would instead of raising."""
    user = NationalUser.objects.create(email="national.fixture@equipe.test")
    client = Client(HTTP_HOST="localhost")
    client.raise_request_exception = False
    client.force_login(user, backend=BACKEND_PATH)
    return client


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Store uploaded and generated files in a temporary folder, never in the repository."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))
    # django-tenants 4.0.1 caches MEDIA_ROOT joined with this setting and clears that cache
    # only when this setting changes, so it is set again to make the new MEDIA_ROOT apply.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
