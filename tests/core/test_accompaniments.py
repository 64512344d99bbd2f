"""Interviews and aid requests: forms, status rules, private syntheses, comments, history."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from core.models import AuditEvent, Comment, Followup, FollowupType, HelpRequest
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text, visible_text


@pytest.fixture
def file(alpha):
    with tenant_context(alpha.structure):
        return create_beneficiary(
            alpha.agents["manager"],
            {"first_names": "Jean", "usual_name": "Martin"},
            [alpha.agents["referent"]],
        )


def followup_type(site):
    with tenant_context(site.structure):
        return FollowupType.objects.get(default_code="aide_alimentaire")


def make_followup(site, beneficiary, author="social_worker", **values):
    with tenant_context(site.structure):
        return save_followup(
            site.agents[author],
            Followup(beneficiary=beneficiary),
            {"date": date(2026, 11, 2), "medium": "phone_call", **values},
            [FollowupType.objects.get(default_code="aide_alimentaire")],
        )


def make_request(site, beneficiary, author="social_worker", **values):
    with tenant_context(site.structure):
        return save_help_request(
            site.agents[author],
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": date(2026, 11, 2),
                "followup_type": FollowupType.objects.get(default_code="aide_alimentaire"),
                **values,
            },
        )


def test_social_worker_records_interview(alpha, file):
    client = alpha.client("social_worker")
    form = {
        "date": "2026-11-02",
        "medium": "third_party",
        "third_person_name": "Sa fille",
        "followup_types": [followup_type(alpha).pk],
        "status": "todo",
        "due_date": "2026-12-01",
        "synthesis": "Point sur les factures.",
        "private_synthesis": "Impression personnelle.",
    }

    response = client.post(f"/accompagnements/entretiens/nouveau/?dossier={file.file_number}", form)

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        followup = Followup.objects.get()
        assert followup.created_by == alpha.agents["social_worker"]
        assert followup.third_person_name == "Sa fille"
        assert list(file.followup_types.values_list("default_code", flat=True)) == [
            "aide_alimentaire"
        ]
        event = AuditEvent.objects.get(action="create_followup")
        assert event.changes["private_synthesis"] == "(texte privé)"


def test_interview_needs_a_followup_type(alpha, file):
    response = alpha.client("social_worker").post(
        f"/accompagnements/entretiens/nouveau/?dossier={file.file_number}",
        {"date": "2026-11-02", "medium": "phone_call", "status": "todo"},
    )

    assert "Choisissez au moins un accompagnement." in page_text(response)


def test_private_synthesis_is_read_by_its_author_only(alpha, file):
    make_followup(alpha, file, synthesis="Partagé.", private_synthesis="Secret de l'auteur.")

    author = page_text(alpha.client("social_worker").get(f"/beneficiaires/{file.file_number}/"))
    manager = page_text(alpha.client("manager").get(f"/beneficiaires/{file.file_number}/"))

    assert "Secret de l'auteur." in author
    assert "Secret de l'auteur." not in manager
    assert "Partagé." in manager


def test_private_synthesis_is_not_in_edit_form_of_others(alpha, file):
    followup = make_followup(alpha, file, private_synthesis="Secret.")

    response = alpha.client("manager").get(f"/accompagnements/entretiens/{followup.pk}/modifier/")

    assert "Secret." not in page_text(response)
    assert 'name="private_synthesis"' not in page_text(response)


def test_reception_agent_reads_synthesis_of_own_interview_only(alpha, file):
    make_followup(alpha, file, author="reception_agent", synthesis="Écrit par l'accueil.")
    make_followup(alpha, file, author="social_worker", synthesis="Écrit par le travailleur social.")

    page = page_text(alpha.client("reception_agent").get(f"/beneficiaires/{file.file_number}/"))

    assert "Écrit par l'accueil." in page
    assert "Écrit par le travailleur social." not in page


def test_referent_author_reads_private_synthesis_of_own_request(alpha, file):
    make_request(alpha, file, author="referent", private_synthesis="Note privée du référent.")

    page = page_text(alpha.client("referent").get(f"/beneficiaires/{file.file_number}/"))

    assert "Note privée du référent." in page


def test_history_lists_newest_first_and_filters_by_kind(alpha, file):
    make_followup(alpha, file, date=date(2026, 10, 1), synthesis="Ancien entretien.")
    make_request(alpha, file, opening_date=date(2026, 11, 15), synthesis="Demande récente.")
    client = alpha.client("manager")

    both = visible_text(client.get(f"/beneficiaires/{file.file_number}/?onglet=historique"))
    interviews = visible_text(
        client.get(f"/beneficiaires/{file.file_number}/?onglet=historique&historique=entretiens")
    )

    assert both.index("Demande d'aide du 15/11/2026") < both.index("Entretien du 01/10/2026")
    assert "Demande d'aide du 15/11/2026" not in interviews


@pytest.mark.parametrize(
    ("previous", "values", "field", "message"),
    [
        (None, {"status": "refused"}, "refusal_reason", "Indiquez le motif du refus"),
        (
            None,
            {
                "status": "refused",
                "refusal_reason": "Ressources",
                "allocated_amount": Decimal("50"),
            },
            "allocated_amount",
            "n'est possible que pour une demande acceptée",
        ),
        (
            None,
            {"status": "investigation_ongoing", "payment_date": date(2026, 11, 20)},
            "payment_date",
            "ne peut être payée qu'une fois accordée",
        ),
        (
            "waiting_additional_information",
            {"status": "accepted"},
            "status",
            "ne peut pas passer directement",
        ),
    ],
)
def test_status_rules_give_french_messages(alpha, file, previous, values, field, message):
    initial = {"status": previous} if previous else {}
    help_request = make_request(alpha, file, **initial)

    with tenant_context(alpha.structure), pytest.raises(ValidationError) as error:
        save_help_request(alpha.agents["social_worker"], help_request, values)

    assert message in " ".join(error.value.message_dict[field])


def test_request_goes_from_instruction_to_payment(alpha, file):
    help_request = make_request(alpha, file, requested_amount=Decimal("150"))
    worker = alpha.agents["social_worker"]

    with tenant_context(alpha.structure):
        save_help_request(
            worker, help_request, {"status": "accepted", "allocated_amount": Decimal("120")}
        )
        save_help_request(
            worker,
            help_request,
            {"payment_method": "check", "payment_date": help_request.decision_date},
        )
        help_request.refresh_from_db()

    assert help_request.status == "accepted"
    assert help_request.allocated_amount == Decimal("120")
    assert help_request.payment_method == "check"


def test_forbidden_transition_in_form_keeps_input(alpha, file):
    help_request = make_request(alpha, file, status="waiting_additional_information")
    form = {
        "opening_date": "2026-11-02",
        "followup_type": followup_type(alpha).pk,
        "status": "accepted",
        "is_financial": "1",
        "instruction": "internal",
        "requested_amount": "300",
        "synthesis": "Texte saisi.",
    }

    response = alpha.client("social_worker").post(
        f"/accompagnements/demandes-d-aide/{help_request.pk}/modifier/", form
    )

    content = page_text(response)
    assert "ne peut pas passer directement" in content
    assert "Texte saisi." in content


def test_reception_agent_cannot_create_help_request(alpha, file):
    response = alpha.client("reception_agent").get(
        f"/accompagnements/demandes-d-aide/nouvelle/?dossier={file.file_number}"
    )

    assert response.status_code == 404


def test_social_worker_edits_only_own_interview(alpha, file):
    own = make_followup(alpha, file, author="social_worker")
    other = make_followup(alpha, file, author="instructor")
    client = alpha.client("social_worker")

    assert client.get(f"/accompagnements/entretiens/{own.pk}/modifier/").status_code == 200
    assert client.get(f"/accompagnements/entretiens/{other.pk}/modifier/").status_code == 404


def test_comment_is_added_and_shown(alpha, file):
    followup = make_followup(alpha, file)
    client = alpha.client("manager")

    client.post(
        f"/accompagnements/entretiens/{followup.pk}/commentaires/", {"contenu": "Bien noté."}
    )

    with tenant_context(alpha.structure):
        assert Comment.objects.get().author == alpha.agents["manager"]
    assert "Bien noté." in page_text(client.get(f"/beneficiaires/{file.file_number}/"))


def test_empty_comment_is_refused(alpha, file):
    followup = make_followup(alpha, file)

    response = alpha.client("manager").post(
        f"/accompagnements/entretiens/{followup.pk}/commentaires/", {"contenu": "  "}, follow=True
    )

    assert "Le commentaire est vide" in page_text(response)


def test_delete_interview_is_audited(alpha, file):
    followup = make_followup(alpha, file)

    alpha.client("manager").post(f"/accompagnements/entretiens/{followup.pk}/supprimer/")

    with tenant_context(alpha.structure):
        assert not Followup.objects.exists()
        assert AuditEvent.objects.filter(action="delete_followup").exists()
        assert not file.followup_types.exists()


def test_other_structure_gets_404_on_items(alpha, beta, file):
    followup = make_followup(alpha, file)
    help_request = make_request(alpha, file)
    client = beta.client("manager")

    assert (
        client.get(f"/accompagnements/entretiens/{followup.pk + 1000}/modifier/").status_code == 404
    )
    assert (
        client.get(
            f"/accompagnements/demandes-d-aide/{help_request.pk + 1000}/modifier/"
        ).status_code
        == 404
    )
    assert (
        client.get(f"/accompagnements/entretiens/nouveau/?dossier={file.file_number}").status_code
        == 404
    )
