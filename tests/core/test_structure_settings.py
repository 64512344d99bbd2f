from datetime import date

from django_tenants.utils import tenant_context

from core.models import AuditEvent, Followup, FollowupType
from core.services.accompaniments import save_followup
from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text


def test_every_role_reads_structure_page(alpha):
    for role in ["manager", "social_worker", "instructor", "reception_agent", "referent"]:
        assert alpha.client(role).get("/structure/").status_code == 200


def test_manager_updates_details_with_audit(alpha):
    response = alpha.client("manager").post(
        "/structure/",
        {
            "formulaire": "coordonnees",
            "name": "CCAS Alpha renommé",
            "address": "2 rue Neuve",
            "phone": "03 00 00 00 00",
            "email": "contact@alpha.test",
        },
    )

    assert response.status_code == 302
    alpha.structure.refresh_from_db()
    assert alpha.structure.name == "CCAS Alpha renommé"
    with tenant_context(alpha.structure):
        assert AuditEvent.objects.filter(action="update_structure").exists()


def test_social_worker_cannot_update_details(alpha):
    alpha.client("social_worker").post(
        "/structure/", {"formulaire": "coordonnees", "name": "Piraté", "address": "x"}
    )

    alpha.structure.refresh_from_db()
    assert alpha.structure.name == "CCAS Alpha"


def test_manager_creates_and_removes_custom_type(alpha):
    client = alpha.client("manager")

    client.post(
        "/structure/", {"formulaire": "type", "name": "Aide aux vacances", "kind": "optional"}
    )
    with tenant_context(alpha.structure):
        custom = FollowupType.objects.get(name="Aide aux vacances")
        proposed = list(
            FollowupType.objects.filter(is_proposed=True)
            .exclude(pk=custom.pk)
            .values_list("pk", flat=True)
        )
    client.post("/structure/accompagnements/", {"proposes": proposed})

    with tenant_context(alpha.structure):
        assert not FollowupType.objects.filter(name="Aide aux vacances").exists()


def test_duplicate_type_name_is_refused(alpha):
    response = alpha.client("manager").post(
        "/structure/", {"formulaire": "type", "name": "domiciliation", "kind": "legal"}
    )

    assert "existe déjà" in page_text(response)


def test_type_in_use_cannot_be_withdrawn(alpha):
    with tenant_context(alpha.structure):
        beneficiary = create_beneficiary(alpha.agents["manager"], {"usual_name": "Martin"})
        used = FollowupType.objects.get(default_code="domiciliation")
        save_followup(
            alpha.agents["manager"],
            Followup(beneficiary=beneficiary),
            {"date": date(2026, 11, 2), "medium": "phone_call"},
            [used],
        )
        others = list(FollowupType.objects.exclude(pk=used.pk).values_list("pk", flat=True))

    response = alpha.client("manager").post(
        "/structure/accompagnements/", {"proposes": others}, follow=True
    )

    assert "ne peuvent pas être retirés : Domiciliation" in page_text(response)
    with tenant_context(alpha.structure):
        assert FollowupType.objects.get(pk=used.pk).is_proposed


def test_withdrawn_default_type_is_no_longer_offered(alpha):
    with tenant_context(alpha.structure):
        puma = FollowupType.objects.get(default_code="puma")
        others = list(FollowupType.objects.exclude(pk=puma.pk).values_list("pk", flat=True))
        beneficiary = create_beneficiary(alpha.agents["manager"], {"usual_name": "Martin"})
    client = alpha.client("manager")

    client.post("/structure/accompagnements/", {"proposes": others})
    form = page_text(
        client.get(f"/accompagnements/entretiens/nouveau/?dossier={beneficiary.file_number}")
    )

    assert "PUMA" not in form
