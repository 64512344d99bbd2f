import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_exists, tenant_context

from core.enums import DEFAULT_FOLLOWUP_TYPES, Role
from core.models import Agent, FollowupType
from tenants.models import DirectoryEntry, Domain, NationalUser, Structure
from tenants.provisioning import (
    ManagerData,
    StructureData,
    prepare_spare_schemas,
    provision_structure,
)
from tests.conftest import BACKEND_PATH
from tests.helpers import page_text


def structure_data(slug: str = "gamma", **overrides) -> StructureData:
    values = {
        "slug": slug,
        "name": "CCAS de Gamma",
        "kind": Structure.Kind.CCAS,
        "address": "1 place du Champ-de-Mars\n71400 Autun",
        "sirets": ["21710014600019"],
        "insee_code": "71014",
    }
    values.update(overrides)
    return StructureData(**values)


MANAGER = ManagerData("Chef@Gamma.test", "Claire", "Chef")


def test_provisioning_creates_schema_domain_and_manager(db):
    structure, created = provision_structure(structure_data(), MANAGER)

    assert created
    assert structure.status == Structure.Status.ACTIVE
    assert schema_exists("gamma")
    assert Domain.objects.get(tenant=structure).domain == "gamma.localhost"
    assert DirectoryEntry.objects.filter(structure=structure, email="chef@gamma.test").exists()
    with tenant_context(structure):
        manager = Agent.objects.get()
        assert manager.email == "chef@gamma.test"
        assert manager.role == Role.MANAGER


def test_provisioning_seeds_default_followup_types(db):
    structure, _ = provision_structure(structure_data(), MANAGER)

    with tenant_context(structure):
        codes = set(FollowupType.objects.values_list("default_code", flat=True))
    assert codes == {code for code, _, _ in DEFAULT_FOLLOWUP_TYPES}


def test_provisioning_sends_invitation_email(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        provision_structure(structure_data(), MANAGER)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["chef@gamma.test"]
    assert "http://gamma.localhost:8000/connexion/" in mail.outbox[0].body


def test_provisioning_twice_is_idempotent(db):
    first, created_first = provision_structure(structure_data(), MANAGER)
    second, created_second = provision_structure(structure_data(), MANAGER)

    assert created_first
    assert not created_second
    assert first.pk == second.pk
    assert Structure.objects.filter(slug="gamma").count() == 1
    with tenant_context(first):
        assert Agent.objects.count() == 1


def test_failure_part_way_leaves_nothing(db, settings):
    settings.STRUCTURE_SETUP_FUNCTION = "tests.tenants.test_provisioning.failing_setup"

    with pytest.raises(RuntimeError):
        provision_structure(structure_data(), MANAGER)

    connection.set_schema_to_public()
    assert not Structure.objects.filter(slug="gamma").exists()
    assert not Domain.objects.filter(domain="gamma.localhost").exists()
    assert not DirectoryEntry.objects.filter(email="chef@gamma.test").exists()
    assert not schema_exists("gamma")


def failing_setup(actor, manager, seed, send_invitation):
    from core.services.structure import set_up_structure

    set_up_structure(actor, manager, seed, send_invitation)
    raise RuntimeError("simulated failure after the manager was invited")


def test_invalid_structure_is_rejected_without_trace(db):
    with pytest.raises(ValidationError):
        provision_structure(structure_data(sirets=["123"]), MANAGER)

    assert not Structure.objects.filter(slug="gamma").exists()
    assert not schema_exists("gamma")


def national_client(db) -> Client:
    user = NationalUser.objects.create(email="national@equipe.test")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user, backend=BACKEND_PATH)
    return client


CONSOLE_FORM = {
    "name": "CCAS de Nevers",
    "slug": "nevers",
    "kind": "ccas",
    "sirets": "21580194300015",
    "insee_code": "58194",
    "epci_siren": "",
    "address": "",
    "phone": "",
    "email": "",
    "manager_first_name": "Nora",
    "manager_last_name": "Responsable",
    "manager_email": "nora@nevers.test",
}


def test_console_creates_structure_with_town_hall_address(db):
    client = national_client(db)

    response = client.post("/console/structures/nouvelle/", CONSOLE_FORM)

    assert response.status_code == 302
    structure = Structure.objects.get(slug="nevers")
    assert "58000 Nevers" in structure.address
    assert structure.phone == "03 86 68 46 46"


def test_console_submitted_twice_creates_one_structure(db):
    client = national_client(db)

    client.post("/console/structures/nouvelle/", CONSOLE_FORM)
    response = client.post("/console/structures/nouvelle/", CONSOLE_FORM, follow=True)

    assert Structure.objects.filter(slug="nevers").count() == 1
    assert "est déjà celui de la structure CCAS de Nevers" in page_text(response)


def test_console_rejects_bad_input_in_french(db):
    client = national_client(db)

    response = client.post(
        "/console/structures/nouvelle/",
        {**CONSOLE_FORM, "sirets": "12 34", "insee_code": "99999", "slug": "Pas Valide"},
    )

    content = page_text(response)
    assert response.status_code == 200
    assert "ne sont pas des SIRET valides" in content
    assert "Aucune commune ne porte le code INSEE 99999" in content
    assert "lettres minuscules sans accent" in content
    assert not Structure.objects.filter(name="CCAS de Nevers").exists()


def test_console_refuses_agents_and_anonymous(alpha):
    anonymous = Client(HTTP_HOST="localhost").get("/console/")

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/connexion/")


def test_console_suspends_structure(alpha):
    client = national_client(None)

    client.post("/console/structures/alpha/suspension/")

    alpha.structure.refresh_from_db()
    assert alpha.structure.status == Structure.Status.SUSPENDED


@pytest.mark.parametrize("slug", ["public", "www", "template-abc", "pg-temp"])
def test_reserved_slug_is_refused(db, slug):
    with pytest.raises(ValidationError):
        provision_structure(structure_data(slug=slug), MANAGER)

    assert schema_exists("public")
    assert not Structure.objects.filter(slug=slug).exists()


def test_provisioning_renames_a_spare_schema(db):
    prepare_spare_schemas(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, '_spare_')")
        assert cursor.fetchone()[0] == 1

    structure, _ = provision_structure(structure_data(), MANAGER)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, '_spare_')")
        assert cursor.fetchone()[0] == 0
    with tenant_context(structure):
        assert Agent.objects.get().email == "chef@gamma.test"
        assert FollowupType.objects.count() == len(DEFAULT_FOLLOWUP_TYPES)


def test_spare_schemas_are_kept_at_count(db):
    created_first = prepare_spare_schemas(2)
    created_again = prepare_spare_schemas(2)

    assert created_first == 2
    assert created_again == 0


def test_spare_schemas_commit_one_by_one(db, monkeypatch):
    # Each clone takes a lock per copied object: one transaction for many clones overflows
    # PostgreSQL's lock table, and a failure would undo the clones already made.
    from django_tenants.clone import CloneSchema

    clone = CloneSchema.clone_schema
    calls = []

    def clone_twice(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args)
        if len(calls) > 1:
            raise RuntimeError("clone failed")
        return clone(self, *args, **kwargs)

    monkeypatch.setattr(CloneSchema, "clone_schema", clone_twice)

    with pytest.raises(RuntimeError):
        prepare_spare_schemas(3)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE starts_with(nspname, '_spare_')")
        assert cursor.fetchone()[0] == 1
