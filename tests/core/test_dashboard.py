"""The "Tableau de bord": due dates, recently opened files, unread notifications, and its
fixed number of SQL queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import Consultation, Followup, FollowupType, HelpRequest, Notification
from core.services.accompaniments import save_followup, save_help_request
from core.services.beneficiaries import create_beneficiary
from tests.helpers import visible_text

TODAY = timezone.localdate()
# The structure's domain and two schema switches (django-tenants), session, agent, unread
# count in the header, four due-date lists, recent files, notifications. Pinned: a change that
# adds a query per row, or one more per page, fails here and updates the number on purpose.
DASHBOARD_QUERIES = 12


def make_file(site, first_names, referents=("referent",)):
    with tenant_context(site.structure):
        return create_beneficiary(
            site.agents["manager"],
            {"first_names": first_names, "usual_name": "Durand"},
            [site.agents[role] for role in referents],
        )


def make_followup(site, beneficiary, author, due_in_days, **values):
    with tenant_context(site.structure):
        return save_followup(
            site.agents[author],
            Followup(beneficiary=beneficiary),
            {
                "date": TODAY - timedelta(days=40),
                "medium": "phone_call",
                "due_date": TODAY + timedelta(days=due_in_days),
                **values,
            },
            [FollowupType.objects.get(default_code="aide_alimentaire")],
        )


def make_request(site, beneficiary, author, due_in_days, **values):
    with tenant_context(site.structure):
        return save_help_request(
            site.agents[author],
            HelpRequest(beneficiary=beneficiary),
            {
                "opening_date": TODAY - timedelta(days=40),
                "followup_type": FollowupType.objects.get(default_code="aide_alimentaire"),
                "due_date": TODAY + timedelta(days=due_in_days),
                **values,
            },
        )


def dashboard(site, role) -> str:
    response = site.client(role).get("/tableau-de-bord/")
    assert response.status_code == 200
    return visible_text(response)


def section(text: str, title: str, next_title: str) -> str:
    return text[text.index(title) : text.index(next_title)]


def overdue_part(text: str) -> str:
    return section(text, "Échéances atteintes", "Échéances des 14 prochains jours")


def upcoming_part(text: str) -> str:
    return section(text, "Échéances des 14 prochains jours", "Notifications non lues")


@pytest.fixture
def files(alpha):
    """Anne's file is followed by the referent persona, Bruno's by the social worker."""
    return {
        "anne": make_file(alpha, "Anne", referents=("referent",)),
        "bruno": make_file(alpha, "Bruno", referents=("social_worker",)),
    }


# Due dates


def test_referent_sees_due_dates_of_followed_files(alpha, files):
    make_followup(alpha, files["anne"], "social_worker", due_in_days=-2)
    make_request(alpha, files["anne"], "manager", due_in_days=5)
    make_followup(alpha, files["bruno"], "social_worker", due_in_days=-1)

    text = dashboard(alpha, "referent")

    assert "Anne DURAND" in overdue_part(text)
    assert "Bruno DURAND" not in text
    assert "Anne DURAND" in upcoming_part(text)
    assert (TODAY + timedelta(days=5)).strftime("%d/%m/%Y") in upcoming_part(text)


def test_author_sees_own_items_on_other_files(alpha, files):
    make_followup(alpha, files["anne"], "social_worker", due_in_days=0)

    text = dashboard(alpha, "social_worker")

    assert "Anne DURAND" in overdue_part(text)


def test_manager_does_not_see_items_of_others(alpha, files):
    make_followup(alpha, files["anne"], "social_worker", due_in_days=-2)

    text = dashboard(alpha, "manager")

    assert "Anne DURAND" not in text
    assert "Aucune échéance atteinte" in text


def test_reception_agent_sees_own_interviews(alpha, files):
    make_followup(alpha, files["bruno"], "reception_agent", due_in_days=3)
    make_followup(alpha, files["anne"], "social_worker", due_in_days=3)

    text = dashboard(alpha, "reception_agent")

    assert "Bruno DURAND" in upcoming_part(text)
    assert "Anne DURAND" not in text


def test_unfollowed_file_items_hidden(alpha, files):
    make_followup(alpha, files["anne"], "referent", due_in_days=-1)
    with tenant_context(alpha.structure):
        files["anne"].referents.set([alpha.agents["social_worker"]])

    text = dashboard(alpha, "referent")

    assert "Anne DURAND" not in text


def test_done_and_closed_items_are_left_out(alpha, files):
    make_followup(alpha, files["anne"], "referent", due_in_days=-1, status="done")
    make_request(alpha, files["anne"], "referent", due_in_days=2, status="dismissed")

    text = dashboard(alpha, "referent")

    assert "Anne DURAND" not in text


def test_due_dates_beyond_two_weeks_are_left_out(alpha, files):
    make_followup(alpha, files["anne"], "referent", due_in_days=15)

    text = dashboard(alpha, "referent")

    assert "Anne DURAND" not in text
    assert "Aucune échéance dans les prochains jours." in text


def test_overdue_items_oldest_first_and_capped(alpha, files):
    for days in range(1, 13):
        make_followup(alpha, files["anne"], "referent", due_in_days=-days)

    part = overdue_part(dashboard(alpha, "referent"))

    oldest = (TODAY - timedelta(days=12)).strftime("%d/%m/%Y")
    newest = (TODAY - timedelta(days=1)).strftime("%d/%m/%Y")
    assert part.index(oldest) < part.index((TODAY - timedelta(days=11)).strftime("%d/%m/%Y"))
    assert newest not in part
    assert part.count("Anne DURAND") == 10
    assert "Seules les 10 plus anciennes sont affichées." in part


def test_due_item_links_to_history(alpha, files):
    followup = make_followup(alpha, files["anne"], "referent", due_in_days=0)
    help_request = make_request(alpha, files["anne"], "referent", due_in_days=1)

    response = alpha.client("referent").get("/tableau-de-bord/")

    content = response.content.decode()
    file_url = f"/beneficiaires/{files['anne'].file_number}/?onglet=historique"
    assert f'href="{file_url}#entretien-{followup.pk}"' in content
    assert f'href="{file_url}#demande-{help_request.pk}"' in content


# Recently opened files


def test_recent_files_newest_first_and_distinct(alpha, files):
    client = alpha.client("social_worker")
    client.get(f"/beneficiaires/{files['anne'].file_number}/")
    client.get(f"/beneficiaires/{files['bruno'].file_number}/")
    client.get(f"/beneficiaires/{files['anne'].file_number}/")

    part = section(
        dashboard(alpha, "social_worker"), "Dossiers consultés récemment", "logiciel libre"
    )

    assert part.count("Anne DURAND") == 1
    assert part.index("Anne DURAND") < part.index("Bruno DURAND")


def test_recent_files_only_own(alpha, files):
    alpha.client("manager").get(f"/beneficiaires/{files['anne'].file_number}/")

    text = dashboard(alpha, "social_worker")

    assert "Anne DURAND" not in text
    assert "Vous n'avez consulté aucun dossier pour le moment." in text


def test_recent_files_capped_at_ten(alpha):
    beneficiaries = [make_file(alpha, f"Personne{index}") for index in range(12)]
    with tenant_context(alpha.structure):
        for beneficiary in beneficiaries:
            Consultation.objects.create(agent=alpha.agents["manager"], beneficiary=beneficiary)

    text = dashboard(alpha, "manager")

    assert text.count("consulté le") == 10
    assert "Personne11 DURAND" in text
    assert "Personne0 DURAND" not in text


def test_recent_files_respect_the_role_matrix(alpha, files):
    # A referent role no longer following a file does not see it among its recent files.
    alpha.client("referent").get(f"/beneficiaires/{files['anne'].file_number}/")
    with tenant_context(alpha.structure):
        files["anne"].referents.set([alpha.agents["social_worker"]])

    text = dashboard(alpha, "referent")

    assert "Anne DURAND" not in text


# Notifications


def test_shows_five_latest_unread_notifications(alpha):
    with tenant_context(alpha.structure):
        for index in range(7):
            Notification.objects.create(
                recipient=alpha.agents["manager"],
                kind="new_comment",
                message=f"Message numéro {index}.",
                key=f"test:{index}",
            )
        Notification.objects.create(
            recipient=alpha.agents["manager"],
            kind="new_comment",
            message="Message déjà lu.",
            key="test:lu",
            is_read=True,
        )

    text = dashboard(alpha, "manager")

    part = section(text, "Notifications non lues", "Voir toutes vos notifications")
    assert part.count("Marquer comme lue") == 5
    assert "Message numéro 6." in part
    assert "Message numéro 1." not in part
    assert "Message déjà lu." not in part


def test_mark_read_from_dashboard_comes_back(alpha):
    with tenant_context(alpha.structure):
        notification = Notification.objects.create(
            recipient=alpha.agents["manager"], kind="new_comment", message="Un.", key="test:1"
        )

    response = alpha.client("manager").post(
        f"/notifications/{notification.pk}/lue/", {"depuis": "tableau-de-bord"}
    )

    assert response["Location"] == "/tableau-de-bord/"


# Structures stay apart, and the page's cost is fixed


def test_beta_dashboard_shows_nothing_of_alpha(alpha, beta, files):
    make_followup(alpha, files["anne"], "manager", due_in_days=-1)
    alpha.client("manager").get(f"/beneficiaires/{files['anne'].file_number}/")

    text = dashboard(beta, "manager")

    assert "Anne DURAND" not in text


def fill(site, start: int, count: int) -> None:
    """Give the manager ``count`` more files, each with due interviews and aid requests, a
    consultation and a notification."""
    for index in range(start, start + count):
        beneficiary = make_file(site, f"Personne{index}", referents=("manager",))
        make_followup(site, beneficiary, "manager", due_in_days=-index)
        make_followup(site, beneficiary, "manager", due_in_days=index + 1)
        make_request(site, beneficiary, "manager", due_in_days=-index)
        make_request(site, beneficiary, "manager", due_in_days=index + 1)
        with tenant_context(site.structure):
            Consultation.objects.create(agent=site.agents["manager"], beneficiary=beneficiary)
            Notification.objects.create(
                recipient=site.agents["manager"],
                kind="due_date",
                beneficiary=beneficiary,
                message=f"Échéance {index}.",
                key=f"test:{index}",
            )


def count_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/tableau-de-bord/")
    assert response.status_code == 200
    return len(queries)


def test_dashboard_query_count(alpha):
    client = alpha.client("manager")
    fill(alpha, 0, 2)
    client.get("/tableau-de-bord/")
    few = count_queries(client)

    fill(alpha, 2, 12)
    many = count_queries(client)

    assert few == DASHBOARD_QUERIES
    assert many == DASHBOARD_QUERIES
