"""The national console's structure form, fed with input that passes the form but not the
model, and with the slug of a structure that already exists."""

from django.core import mail
from django_tenants.utils import schema_exists, tenant_context

from core.models import Agent
from tenants.forms import StructureCreationForm
from tenants.models import Structure
from tests.helpers import page_text

FORM = {
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
# 255 characters: valid for forms.EmailField (320), too long for the models' EmailField (254).
LONG_EMAIL = "a" * 248 + "@x.test"


def test_console_structure_email_too_long(national):
    response = national.post("/console/structures/nouvelle/", {**FORM, "email": LONG_EMAIL})

    assert response.status_code == 200
    assert "254 caractères" in page_text(response)
    assert not Structure.objects.filter(slug="nevers").exists()


def test_console_manager_email_too_long(national):
    response = national.post("/console/structures/nouvelle/", {**FORM, "manager_email": LONG_EMAIL})

    assert response.status_code == 200
    assert "254 caractères" in page_text(response)
    assert not schema_exists("nevers")


def test_console_existing_slug_rejected(alpha, national):
    # A typo, or a second structure given a slug that is taken. Every other field describes
    # another structure, with another manager.
    response = national.post(
        "/console/structures/nouvelle/",
        {**FORM, "slug": "alpha", "manager_email": "inconnu@ailleurs.test"},
    )

    with tenant_context(alpha.structure):
        stranger = Agent.objects.filter(email="inconnu@ailleurs.test").first()
    assert stranger is None, f"invited into CCAS Alpha with the role {stranger.role}"
    assert response.status_code == 200
    assert "alpha" in page_text(response)


def test_console_name_line_break_rejected(national, django_capture_on_commit_callbacks):
    # A text input never sends a line break, but a crafted POST can. The name then goes into
    # the subject of every invitation e-mail of this structure.
    with django_capture_on_commit_callbacks(execute=True):
        response = national.post(
            "/console/structures/nouvelle/", {**FORM, "name": "CCAS de Nevers\nBcc: x@y.test"}
        )

    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert len(mail.outbox) == 1


def test_console_full_width_siret_rejected(db):
    form = StructureCreationForm({**FORM, "sirets": "２１５８０１９４３０００１５"})

    assert not form.is_valid()
    assert "sirets" in form.errors
