"""Inviting agents when the outside world misbehaves, and who the audit trail names."""

from django_tenants.utils import tenant_context

from core.models import Agent, AuditEvent
from core.services.agents import invite_agent
from tenants.models import NationalUser

INVITATION = {
    "first_name": "Inès",
    "last_name": "Nouvelle",
    "email": "ines@alpha.test",
    "role": "social_worker",
}


def test_invitation_mail_failure_after_commit(alpha, settings, django_capture_on_commit_callbacks):
    # The agent row and its directory entry are committed before the e-mail is sent. An
    # exception raised by the on_commit callback turns the request into a 500 page, which tells
    # the manager the change may be lost although it is saved, and a retry is rejected as a
    # duplicate.
    settings.EMAIL_BACKEND = "tests.helpers.FailingEmailBackend"
    client = alpha.client("manager")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/utilisateurs/inviter/", INVITATION)

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        assert Agent.objects.filter(email="ines@alpha.test").exists()


def test_refused_invitation_logs_no_address(
    alpha, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.helpers.RefusingEmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        alpha.client("manager").post("/utilisateurs/inviter/", INVITATION)

    assert "SMTPRecipientsRefused" in caplog.text
    assert "ines@alpha.test" not in caplog.text


def test_audit_national_actor_id(alpha):
    national = NationalUser.objects.create(email="national.audit@equipe.test")

    with tenant_context(alpha.structure):
        invite_agent(national, send_email=False, **INVITATION)
        event = AuditEvent.objects.get(
            action="invite_agent", target_type="agent", changes__email="ines@alpha.test"
        )

    # actor_id stores a NationalUser id (public schema) in a column read as an Agent id.
    assert event.actor_id != national.pk
