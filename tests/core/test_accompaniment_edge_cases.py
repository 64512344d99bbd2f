"""Hostile review of interviews, aid requests, commissions, documents and the structure
settings. Each test asserts the expected behaviour, so each failure is a problem found."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from core.enums import BeneficiaryStatus
from core.models import (
    AuditEvent,
    Beneficiary,
    Comment,
    Committee,
    Document,
    Followup,
    FollowupType,
    HelpRequest,
)
from core.services import committees as service
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from core.services.documents import add_document
from tests.helpers import as_server, visible_text

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def file(alpha):
    with tenant_context(alpha.structure):
        return create_beneficiary(
            alpha.agents["manager"],
            {"first_names": "Jean", "usual_name": "Martin"},
            [alpha.agents["referent"], alpha.agents["reception_agent"]],
        )


def food_type(site):
    with tenant_context(site.structure):
        return FollowupType.objects.get(default_code="aide_alimentaire")


def make_followup(site, beneficiary, author="social_worker", **values):
    with tenant_context(site.structure):
        return save_followup(
            site.agents[author],
            Followup(beneficiary=beneficiary),
            {"date": date(2026, 1, 5), "medium": "phone_call", **values},
            [FollowupType.objects.get(default_code="aide_alimentaire")],
        )


def make_request(site, beneficiary, author="social_worker", **values):
    with tenant_context(site.structure):
        return save_help_request(
            site.agents[author],
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": date(2024, 12, 2),
                "followup_type": FollowupType.objects.get(default_code="aide_alimentaire"),
                **values,
            },
        )


def history_panel(response) -> str:
    """Return the visible text of the "Historique des changements" tab only."""
    content = response.content.decode()
    start = content.index('id="panneau-changements"')
    end = content.find('class="fr-tabs__panel', start + 30)
    fragment = content[start : end if end != -1 else len(content)]
    return visible_text(SimpleNamespace(content=fragment.encode()))


def form_data(response) -> dict:
    """Return the POST data a browser sends back for the form shown, unchanged."""
    form = response.context["form"]
    data: dict = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if value is True:
            data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = [str(getattr(item, "pk", item)) for item in value]
        else:
            data[name] = str(getattr(value, "pk", value))
    return data


# Leaks through the "Historique des changements" tab and the lists


def test_change_history_hides_request_amounts_from_reception_agent(alpha, file):
    # VIEW_HELP_REQUEST_PROTECTED is refused to reception agents, so the "Historique" tab
    # hides amounts, refusal reason and instructor organisation. The change history must too.
    make_request(
        alpha,
        file,
        requested_amount=Decimal("4321"),
        instructor_organisation="Organisme-Confidentiel",
        status="refused",
        refusal_reason="Motif-Confidentiel",
    )
    response = alpha.client("reception_agent").get(
        f"/beneficiaires/{file.file_number}/?onglet=changements"
    )
    text = history_panel(response)
    assert "4321" not in text
    assert "Motif-Confidentiel" not in text
    assert "Organisme-Confidentiel" not in text


def test_change_history_hides_interview_details_from_reception_agent(alpha, file):
    # VIEW_FOLLOWUP is AUTHOR for reception agents, so the timeline hides the third person
    # and the prescribing organisation of someone else's interview. The change history must too.
    make_followup(
        alpha,
        file,
        medium="third_party",
        third_person_name="Tiers-Confidentiel",
        prescribing_organisation="Prescripteur-Confidentiel",
    )
    response = alpha.client("reception_agent").get(
        f"/beneficiaires/{file.file_number}/?onglet=changements"
    )
    text = history_panel(response)
    assert "Tiers-Confidentiel" not in text
    assert "Prescripteur-Confidentiel" not in text


def test_accompaniment_list_hides_interview_details_from_reception_agent(alpha, file):
    # Same rule on the "Accompagnements" list, whose "Type d'entretien, objets" column shows
    # what the file's timeline hides from a reception agent.
    make_followup(alpha, file, medium="home_visit")
    text = visible_text(alpha.client("reception_agent").get("/accompagnements/"))
    assert "Rendez-vous à domicile" not in text


# Confidential documents


def test_request_edit_keeps_hidden_confidential_documents(alpha, file):
    with tenant_context(alpha.structure):
        confidential = add_document(
            alpha.agents["manager"],
            file,
            SimpleUploadedFile("avis.pdf", PDF_BYTES),
            kind="proof",
            themes=[],
            is_confidential=True,
        )
    request = make_request(alpha, file, author="manager")
    with tenant_context(alpha.structure):
        request.documents.add(confidential)

    client = alpha.client("referent")
    url = f"/accompagnements/demandes-d-aide/{request.pk}/modifier/"
    data = form_data(client.get(url))
    data["synthesis"] = "Relance faite."
    assert client.post(url, data).status_code == 302
    with tenant_context(alpha.structure):
        assert list(request.documents.all()) == [confidential]


# Commissions


def session_with_decisions(site, decisions):
    """Create a planned session with one request per (status, amount, reason) decision, and
    record those decisions."""
    manager = site.agents["manager"]
    requests = []
    with tenant_context(site.structure):
        for index, _ in enumerate(decisions):
            beneficiary = create_beneficiary(
                manager, {"first_names": "Anne", "usual_name": f"Durand{index}"}, [manager]
            )
            requests.append(
                save_help_request(
                    manager,
                    HelpRequest(beneficiary=beneficiary),
                    {
                        "opening_date": date(2024, 12, 2),
                        "followup_type": FollowupType.objects.first(),
                        "is_complete": True,
                        "requested_amount": Decimal("500"),
                    },
                )
            )
        committee = service.create_committee(manager, "standing", date(2025, 2, 3))
        service.add_requests(manager, committee, [item.pk for item in requests])
        errors = service.record_decisions(
            manager,
            committee,
            [
                service.Decision(item, status, amount, reason)
                for item, (status, amount, reason) in zip(requests, decisions, strict=True)
            ],
        )
        assert errors == {}
    return committee, requests


def test_closed_session_decision_is_frozen(alpha):
    committee, [request] = session_with_decisions(alpha, [("accepted", Decimal("100"), "")])
    with tenant_context(alpha.structure):
        service.close_committee(alpha.agents["manager"], committee)

    client = alpha.client("manager")
    url = f"/accompagnements/demandes-d-aide/{request.pk}/modifier/"
    data = form_data(client.get(url))
    data["allocated_amount"] = "9999"
    client.post(url, data)
    with tenant_context(alpha.structure):
        request.refresh_from_db()
    # The stored minutes state 100 €, and the decision letter is built from the request.
    assert request.allocated_amount == Decimal("100")


def test_close_with_long_refusal_reason(alpha):
    reason = "Ressources supérieures au barème communal après examen détaillé. " * 45
    committee, _ = session_with_decisions(alpha, [("refused", None, reason)])
    response = as_server(alpha.client("manager")).post(f"/commissions/{committee.pk}/cloture/")
    assert response.status_code != 500
    with tenant_context(alpha.structure):
        assert Committee.objects.get(pk=committee.pk).status == "closed"


def test_decision_correction_before_closing(alpha):
    committee, [request] = session_with_decisions(alpha, [("accepted", Decimal("100"), "")])
    with tenant_context(alpha.structure):
        errors = service.record_decisions(
            alpha.agents["manager"],
            committee,
            [service.Decision(request, "refused", None, "Dossier incomplet.")],
        )
    # The session is still planned and its decisions page offers every decision again.
    assert errors == {}


# Odd input


def test_nul_byte_in_dossier_parameter(alpha):
    client = as_server(alpha.client("manager"))
    assert client.get("/accompagnements/entretiens/nouveau/?dossier=%00").status_code == 400


def test_nul_byte_in_comment(alpha, file):
    followup = make_followup(alpha, file)
    client = as_server(alpha.client("social_worker"))
    response = client.post(
        f"/accompagnements/entretiens/{followup.pk}/commentaires/", {"contenu": "a\x00b"}
    )
    assert response.status_code == 400
    with tenant_context(alpha.structure):
        assert not Comment.objects.exists()


def test_catalogue_update_with_unicode_digit(alpha):
    client = as_server(alpha.client("manager"))
    response = client.post("/structure/accompagnements/", {"proposes": "\u00b2"})
    assert response.status_code == 302


def test_custom_type_name_ignoring_accents(alpha):
    client = alpha.client("manager")
    client.post(
        "/structure/", {"formulaire": "type", "name": "Aide medicale d'Etat", "kind": "legal"}
    )
    with tenant_context(alpha.structure):
        assert not FollowupType.objects.filter(name="Aide medicale d'Etat").exists()


# Archived files


def archive(site, beneficiary):
    with tenant_context(site.structure):
        Beneficiary.objects.filter(pk=beneficiary.pk).update(status=BeneficiaryStatus.ARCHIVED)


def test_archived_file_interview_edit(alpha, file):
    followup = make_followup(alpha, file, status="todo")
    archive(alpha, file)
    client = alpha.client("social_worker")
    url = f"/accompagnements/entretiens/{followup.pk}/modifier/"
    data = {
        "date": "2026-01-05",
        "medium": "phone_call",
        "followup_types": [food_type(alpha).pk],
        "status": "done",
    }
    client.post(url, data)
    with tenant_context(alpha.structure):
        followup.refresh_from_db()
    assert followup.status == "todo"


def test_archived_file_document_delete(alpha, file):
    with tenant_context(alpha.structure):
        document = add_document(
            alpha.agents["manager"],
            file,
            SimpleUploadedFile("quittance.pdf", PDF_BYTES),
            kind="proof",
            themes=[],
            is_confidential=False,
        )
    archive(alpha, file)
    alpha.client("manager").post(
        f"/beneficiaires/{file.file_number}/documents/{document.pk}/supprimer/"
    )
    with tenant_context(alpha.structure):
        assert Document.objects.filter(pk=document.pk).exists()


# Audit trail


def test_private_synthesis_change_audited(alpha, file):
    followup = make_followup(alpha, file, private_synthesis="Première note.")
    with tenant_context(alpha.structure):
        save_followup(
            alpha.agents["social_worker"],
            followup,
            {"private_synthesis": "Seconde note."},
            [FollowupType.objects.get(default_code="aide_alimentaire")],
        )
        updates = AuditEvent.objects.filter(action="update_followup", target_id=followup.pk)
        assert any("private_synthesis" in event.changes for event in updates)
