import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from core.enums import Role
from core.models import Agent, AuditEvent
from tenants.models import DirectoryEntry
from tests.helpers import page_text

INVITATION = {
    "first_name": "Inès",
    "last_name": "Nouvelle",
    "email": "Ines.Nouvelle@Alpha.test",
    "role": "social_worker",
}


def test_manager_invites_agent(alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = alpha.client("manager").post("/utilisateurs/inviter/", INVITATION)

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        agent = Agent.objects.get(email="ines.nouvelle@alpha.test")
        assert agent.role == Role.SOCIAL_WORKER
        assert AuditEvent.objects.filter(action="invite_agent", target_id=agent.pk).exists()
    assert DirectoryEntry.objects.get(email="ines.nouvelle@alpha.test").structure == alpha.structure
    assert mail.outbox[0].to == ["ines.nouvelle@alpha.test"]
    assert "http://alpha.localhost:8000/connexion/" in mail.outbox[0].body


def test_invitation_with_existing_email_is_refused(alpha):
    response = alpha.client("manager").post(
        "/utilisateurs/inviter/", {**INVITATION, "email": "SOCIAL_WORKER@alpha.test"}
    )

    assert response.status_code == 200
    assert "Un agent de la structure utilise déjà cette adresse e-mail." in page_text(response)


@pytest.mark.parametrize("role", ["social_worker", "instructor", "reception_agent", "referent"])
def test_only_manager_manages_agents(alpha, role):
    client = alpha.client(role)

    assert client.get("/utilisateurs/").status_code == 404
    assert client.post("/utilisateurs/inviter/", INVITATION).status_code == 404
    with tenant_context(alpha.structure):
        assert not Agent.objects.filter(email="ines.nouvelle@alpha.test").exists()


def test_manager_edits_and_deactivates_agent(alpha):
    worker = alpha.agents["social_worker"]
    form = {
        "first_name": "Karim",
        "last_name": "Benali",
        "email": worker.email,
        "role": "instructor",
        "is_active": "",
    }

    response = alpha.client("manager").post(f"/utilisateurs/{worker.pk}/modifier/", form)

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        worker.refresh_from_db()
    assert worker.role == Role.INSTRUCTOR
    assert not worker.is_active
    assert not DirectoryEntry.objects.get(email=worker.email, structure=alpha.structure).is_active


def test_deactivated_agent_open_session_is_refused(alpha):
    client = alpha.client("social_worker")
    assert client.get("/beneficiaires/").status_code == 200
    with tenant_context(alpha.structure):
        Agent.objects.filter(pk=alpha.agents["social_worker"].pk).update(is_active=False)

    response = client.get("/beneficiaires/")

    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/")


def test_manager_cannot_deactivate_self(alpha):
    manager = alpha.agents["manager"]
    form = {
        "first_name": manager.first_name,
        "last_name": manager.last_name,
        "email": manager.email,
        "role": "manager",
        "is_active": "",
    }

    response = alpha.client("manager").post(f"/utilisateurs/{manager.pk}/modifier/", form)

    assert response.status_code == 200
    assert "Vous ne pouvez pas désactiver votre propre accès." in page_text(response)


def test_agent_list_shows_only_this_structure(alpha, beta):
    response = alpha.client("manager").get("/utilisateurs/")

    content = page_text(response)
    assert "manager@alpha.test" in content
    assert "@beta.test" not in content
