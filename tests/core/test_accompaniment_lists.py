from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from core.models import Followup, FollowupType, HelpRequest
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from tests.helpers import visible_text


@pytest.fixture
def items(alpha):
    with tenant_context(alpha.structure):
        food = FollowupType.objects.get(default_code="aide_alimentaire")
        housing = FollowupType.objects.get(default_code="domiciliation")
        file = create_beneficiary(
            alpha.agents["manager"],
            {"first_names": "Jean", "usual_name": "Martin"},
            [alpha.agents["referent"]],
        )
        other = create_beneficiary(
            alpha.agents["manager"],
            {"first_names": "Zoé", "usual_name": "Autre"},
            [alpha.agents["manager"]],
        )
        save_followup(
            alpha.agents["social_worker"],
            Followup(beneficiary=file),
            {"date": date(2026, 10, 1), "medium": "phone_call"},
            [food],
        )
        save_followup(
            alpha.agents["manager"],
            Followup(beneficiary=other),
            {"date": date(2026, 11, 1), "medium": "email", "status": "done"},
            [housing],
        )
        save_help_request(
            alpha.agents["social_worker"],
            HelpRequest(beneficiary=file),
            {
                "opening_date": date(2026, 10, 5),
                "followup_type": food,
                "requested_amount": Decimal("80"),
            },
        )
    return {"file": file, "other": other, "food": food}


def test_interviews_list_filters_by_status_type_and_dates(alpha, items):
    client = alpha.client("manager")

    done = visible_text(client.get("/accompagnements/", {"statut": "done"}))
    food = visible_text(client.get("/accompagnements/", {"accompagnement": items["food"].pk}))
    november = visible_text(
        client.get("/accompagnements/", {"du": "2026-11-01", "au": "2026-11-30"})
    )

    assert "Zoé AUTRE" in done
    assert "Jean MARTIN" not in done
    assert "Jean MARTIN" in food
    assert "Zoé AUTRE" not in food
    assert "Zoé AUTRE" in november
    assert "Jean MARTIN" not in november


def test_help_requests_tab_hides_amounts_from_reception_agent(alpha, items):
    manager = visible_text(
        alpha.client("manager").get("/accompagnements/", {"onglet": "demandes-d-aide"})
    )
    reception = visible_text(
        alpha.client("reception_agent").get("/accompagnements/", {"onglet": "demandes-d-aide"})
    )

    assert "80,00 €" in manager
    assert "Montant demandé" not in reception
    assert "Jean MARTIN" in reception


def test_referent_lists_only_items_of_own_files(alpha, items):
    content = visible_text(alpha.client("referent").get("/accompagnements/"))

    assert "Jean MARTIN" in content
    assert "Zoé AUTRE" not in content


def test_lists_show_nothing_of_other_structure(alpha, beta, items):
    content = visible_text(beta.client("manager").get("/accompagnements/"))

    assert "MARTIN" not in content
    assert "0 entretien" in content


def test_sorting_by_beneficiary(alpha, items):
    content = visible_text(
        alpha.client("manager").get("/accompagnements/", {"tri": "beneficiaire"})
    )

    assert content.index("Zoé AUTRE") < content.index("Jean MARTIN")


def test_list_query_count_does_not_grow(alpha, items):
    client = alpha.client("manager")
    client.get("/accompagnements/")
    with CaptureQueriesContext(connection) as few:
        client.get("/accompagnements/")
    with tenant_context(alpha.structure):
        for day in range(1, 10):
            save_followup(
                alpha.agents["manager"],
                Followup(beneficiary=items["other"]),
                {"date": date(2026, 9, day), "medium": "email"},
                [items["food"]],
            )

    with CaptureQueriesContext(connection) as many:
        client.get("/accompagnements/")

    assert len(many) == len(few)
