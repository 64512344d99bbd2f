"""Commission sessions: planning, adding requests, decisions in one screen, closing with the
minutes and the decision letters, roles and structure isolation."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from core.models import AuditEvent, Committee, FollowupType, HelpRequest
from core.pdf import printable
from core.services import committees as service
from core.services.accompaniments import save_help_request
from core.services.beneficiaries import create_beneficiary
from tests.helpers import page_text, visible_text

ROLES = ["manager", "social_worker", "instructor", "reception_agent", "referent"]
ALLOWED = {"manager", "social_worker", "instructor"}
OPENED = date(2024, 12, 2)
SESSION_DATE = date(2025, 2, 3)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Store the minutes in a temporary folder, never in the project's var/media."""
    settings.MEDIA_ROOT = str(tmp_path)
    # The tenant storage caches its root: changing this setting clears that cache.
    settings.MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
    return tmp_path


def make_request(site, first_names, usual_name, **values):
    """An aid request ready for a session, created through the service as an agent would."""
    actor = site.agents["social_worker"]
    with tenant_context(site.structure):
        beneficiary = create_beneficiary(
            actor, {"first_names": first_names, "usual_name": usual_name}, [actor]
        )
        fields = {
            "beneficiary": beneficiary,
            "opening_date": OPENED,
            "followup_type": FollowupType.objects.first(),
            "is_complete": True,
            "requested_amount": Decimal("500"),
        }
        fields.update(values)
        return save_help_request(actor, HelpRequest(), fields)


def make_session(site, on=SESSION_DATE, requests=()):
    with tenant_context(site.structure):
        committee = service.create_committee(site.agents["manager"], "standing", on)
        service.add_requests(site.agents["manager"], committee, [item.pk for item in requests])
        return committee


def decision_data(site, committee, rows):
    """The decisions page's POST data; ``rows`` maps a request to (decision, amount, reason)."""
    with tenant_context(site.structure):
        order = list(service.session_requests(committee))
    data = {
        "decisions-TOTAL_FORMS": str(len(order)),
        "decisions-INITIAL_FORMS": str(len(order)),
        "decisions-MIN_NUM_FORMS": "0",
        "decisions-MAX_NUM_FORMS": "1000",
    }
    for index, item in enumerate(order):
        decision, amount, reason = rows.get(item.pk, ("", "", ""))
        data[f"decisions-{index}-demande"] = str(item.pk)
        data[f"decisions-{index}-decision"] = decision
        data[f"decisions-{index}-allocated_amount"] = amount
        data[f"decisions-{index}-refusal_reason"] = reason
    return data


def reload(site, item):
    with tenant_context(site.structure):
        item.refresh_from_db()
    return item


def pdf_bytes(response):
    return b"".join(response.streaming_content)


@pytest.fixture
def three(alpha):
    return [
        make_request(alpha, "Alice", "Accord"),
        make_request(alpha, "Bruno", "Refus"),
        make_request(alpha, "Chloé", "Report"),
    ]


def test_commission_flow_end_to_end(alpha, three):
    accepted, refused, adjourned = three
    client = alpha.client("social_worker")

    created = client.post("/commissions/nouvelle/", {"kind": "standing", "date": "2025-02-03"})
    with tenant_context(alpha.structure):
        committee = Committee.objects.get()
    assert created.status_code == 302
    assert created.url == f"/commissions/{committee.pk}/"
    base = created.url

    listed = visible_text(client.get(f"{base}demandes/"))
    assert "Alice ACCORD" in listed
    assert "500,00 €" in listed
    added = client.post(f"{base}demandes/", {"demandes": [item.pk for item in three]})
    assert added.status_code == 302
    assert all(reload(alpha, item).committee_id == committee.pk for item in three)

    # A refusal without reason: nothing is saved, not even the valid rows, and what was
    # typed is shown again with a French message next to the faulty row.
    invalid = client.post(
        f"{base}decisions/",
        decision_data(
            alpha,
            committee,
            {
                accepted.pk: ("accepted", "150,50", ""),
                refused.pk: ("refused", "", ""),
                adjourned.pk: ("adjourned", "", ""),
            },
        ),
    )
    text = page_text(invalid)
    assert invalid.status_code == 200
    assert "Indiquez le motif du refus : il figure sur le courrier envoyé." in text
    assert "Aucune décision n'a été enregistrée" in text
    assert 'value="150,50"' in text
    assert reload(alpha, accepted).status == "investigation_ongoing"
    assert reload(alpha, adjourned).status == "investigation_ongoing"
    assert reload(alpha, accepted).allocated_amount is None

    # Closing while a request has no decision is rejected, naming the people.
    refused_close = client.post(f"{base}cloture/")
    assert refused_close.status_code == 200
    text = visible_text(refused_close)
    assert "La séance n'a pas été close : 3 demandes sans décision" in text
    assert all(name in text for name in ["Alice ACCORD", "Bruno REFUS", "Chloé REPORT"])
    with tenant_context(alpha.structure):
        assert Committee.objects.get().status == "planned"

    saved = client.post(
        f"{base}decisions/",
        decision_data(
            alpha,
            committee,
            {
                accepted.pk: ("accepted", "150,50", ""),
                refused.pk: ("refused", "", "Ressources supérieures au barème."),
                adjourned.pk: ("adjourned", "", ""),
            },
        ),
    )
    assert saved.status_code == 302
    accepted, refused, adjourned = (reload(alpha, item) for item in three)
    assert (accepted.status, accepted.allocated_amount) == ("accepted", Decimal("150.50"))
    assert (refused.status, refused.refusal_reason) == (
        "refused",
        "Ressources supérieures au barème.",
    )
    assert adjourned.status == "adjourned"
    for item in three:
        assert item.committee_date == SESSION_DATE
        assert item.decision_date == SESSION_DATE

    closed = client.post(f"{base}cloture/")
    assert closed.status_code == 302
    with tenant_context(alpha.structure):
        committee.refresh_from_db()
        assert committee.status == "closed"
        assert committee.closed_by == alpha.agents["social_worker"]
        assert committee.closed_at is not None
        with committee.minutes.open("rb") as stored:
            assert stored.read(4) == b"%PDF"
        assert AuditEvent.objects.filter(action="close_committee", target_id=committee.pk).exists()

    minutes = client.get(f"{base}proces-verbal/")
    assert minutes["Content-Type"] == "application/pdf"
    assert pdf_bytes(minutes).startswith(b"%PDF")
    for item in (accepted, refused):
        letter = client.get(f"{base}courriers/{item.pk}/")
        assert letter.status_code == 200
        assert "attachment" in letter["Content-Disposition"]
        assert pdf_bytes(letter).startswith(b"%PDF")
    assert client.get(f"{base}courriers/{adjourned.pk}/").status_code == 404
    detail = visible_text(client.get(base))
    assert "Télécharger le procès-verbal" in detail


def test_every_change_is_audited(alpha, three):
    committee = make_session(alpha, requests=three)
    manager = alpha.agents["manager"]
    with tenant_context(alpha.structure):
        decisions = [service.Decision(three[0], "accepted", Decimal("80"), "")]
        assert service.record_decisions(manager, committee, decisions) == {}
        actions = list(AuditEvent.objects.values_list("action", "target_type", "changes"))

    assert ("create_committee", "committee") in {(a, t) for a, t, _ in actions}
    added = [c for a, t, c in actions if a == "update_help_request" and "committee" in c]
    assert len(added) == 3
    decided = [c for a, t, c in actions if a == "update_help_request" and "status" in c]
    assert decided == [
        {
            "status": ["investigation_ongoing", "accepted"],
            "allocated_amount": [None, "80"],
            "committee_date": [None, "2025-02-03"],
            "decision_date": [None, "2025-02-03"],
        }
    ]


def test_amount_on_a_refusal_is_refused_per_row(alpha, three):
    committee = make_session(alpha, requests=three)
    client = alpha.client("manager")

    response = client.post(
        f"/commissions/{committee.pk}/decisions/",
        decision_data(alpha, committee, {three[1].pk: ("refused", "90", "Hors barème")}),
    )

    text = page_text(response)
    assert "Un montant attribué n'est possible que pour une demande acceptée." in text
    assert "Hors barème" in text
    assert reload(alpha, three[1]).status == "investigation_ongoing"


def test_amount_without_decision_asks_for_a_decision(alpha, three):
    committee = make_session(alpha, requests=three)

    response = alpha.client("manager").post(
        f"/commissions/{committee.pk}/decisions/",
        decision_data(alpha, committee, {three[0].pk: ("", "120", "")}),
    )

    assert "Choisissez une décision pour enregistrer le montant" in page_text(response)


def test_every_faulty_row_is_reported_at_once(alpha, three):
    committee = make_session(alpha, requests=three)

    response = alpha.client("manager").post(
        f"/commissions/{committee.pk}/decisions/",
        decision_data(
            alpha,
            committee,
            {
                three[0].pk: ("accepted", "100", ""),
                three[1].pk: ("refused", "", ""),
                three[2].pk: ("", "12", ""),
            },
        ),
    )

    text = page_text(response)
    assert "Indiquez le motif du refus" in text
    assert "Choisissez une décision pour enregistrer le montant" in text
    assert reload(alpha, three[0]).status == "investigation_ongoing"


def test_open_session_corrects_its_own_decision(alpha, three):
    committee = make_session(alpha, requests=three[:1])
    with tenant_context(alpha.structure):
        manager = alpha.agents["manager"]
        decisions = [service.Decision(three[0], "accepted", Decimal("80"), "")]
        service.record_decisions(manager, committee, decisions)

    response = alpha.client("manager").post(
        f"/commissions/{committee.pk}/decisions/",
        decision_data(alpha, committee, {three[0].pk: ("refused", "", "Erreur de saisie")}),
    )

    assert response.status_code == 302
    assert reload(alpha, three[0]).status == "refused"
    assert reload(alpha, three[0]).allocated_amount is None


def test_decision_before_opening_date_rejected(alpha):
    late = make_request(alpha, "Tardive", "Ouverture", opening_date=SESSION_DATE + timedelta(1))
    committee = make_session(alpha, requests=[late])

    response = alpha.client("manager").post(
        f"/commissions/{committee.pk}/decisions/",
        decision_data(alpha, committee, {late.pk: ("accepted", "", "")}),
    )

    assert "La décision ne peut pas précéder l'ouverture du dossier." in page_text(response)
    assert reload(alpha, late).status == "investigation_ongoing"


def test_only_requests_due_for_examination_are_offered(alpha):
    due = make_request(alpha, "Due", "Examen")
    incomplete = make_request(alpha, "Pas", "Complet", is_complete=False)
    external = make_request(alpha, "Autre", "Organisme", instruction="external")
    waiting = make_request(alpha, "En", "Attente", status="waiting_additional_information")
    elsewhere = make_request(alpha, "Autre", "Seance")
    make_session(alpha, on=SESSION_DATE, requests=[elsewhere])
    earlier_adjourned = make_request(alpha, "Deja", "Ajourne")
    earlier = make_session(
        alpha, on=SESSION_DATE - timedelta(days=30), requests=[earlier_adjourned]
    )
    with tenant_context(alpha.structure):
        manager = alpha.agents["manager"]
        decisions = [service.Decision(earlier_adjourned, "adjourned", None, "")]
        assert service.record_decisions(manager, earlier, decisions) == {}
        service.close_committee(manager, earlier)
        committee = service.create_committee(manager, "board", SESSION_DATE)
        offered = set(service.eligible_requests(committee))

    assert offered == {due, earlier_adjourned}
    assert {incomplete, external, waiting, elsewhere}.isdisjoint(offered)


def test_adjourned_request_goes_to_a_later_session(alpha):
    item = make_request(alpha, "Deja", "Ajourne")
    earlier = make_session(alpha, on=SESSION_DATE - timedelta(days=30), requests=[item])
    manager = alpha.agents["manager"]
    with tenant_context(alpha.structure):
        service.record_decisions(manager, earlier, [service.Decision(item, "adjourned", None, "")])
        service.close_committee(manager, earlier)
    later = make_session(alpha, requests=[item])

    client = alpha.client("manager")
    refused = client.post(f"/commissions/{later.pk}/cloture/")
    assert "La séance n'a pas été close : 1 demande sans décision" in visible_text(refused)
    assert "Deja AJOURNE (dossier" in visible_text(refused)
    client.post(
        f"/commissions/{later.pk}/decisions/",
        decision_data(alpha, later, {item.pk: ("accepted", "200", "")}),
    )
    assert client.post(f"/commissions/{later.pk}/cloture/").status_code == 302
    assert reload(alpha, item).status == "accepted"


def test_request_is_removed_from_the_session(alpha, three):
    committee = make_session(alpha, requests=three)
    client = alpha.client("instructor")

    response = client.post(f"/commissions/{committee.pk}/demandes/{three[0].pk}/retirer/")

    assert response.status_code == 302
    assert reload(alpha, three[0]).committee_id is None
    with tenant_context(alpha.structure):
        assert AuditEvent.objects.filter(
            action="update_help_request", target_id=three[0].pk, changes__committee__1=None
        ).exists()
        assert three[0] in service.eligible_requests(committee)


def test_decided_request_cannot_be_removed(alpha, three):
    committee = make_session(alpha, requests=three)
    with tenant_context(alpha.structure):
        service.record_decisions(
            alpha.agents["manager"], committee, [service.Decision(three[0], "adjourned", None, "")]
        )
    client = alpha.client("manager")

    response = client.post(
        f"/commissions/{committee.pk}/demandes/{three[0].pk}/retirer/", follow=True
    )

    assert "ne peut plus en être retirée" in page_text(response)
    assert reload(alpha, three[0]).committee_id == committee.pk


def test_closed_session_no_longer_changes(alpha, three):
    committee = make_session(alpha, requests=three[:1])
    manager = alpha.agents["manager"]
    with tenant_context(alpha.structure):
        service.record_decisions(
            manager, committee, [service.Decision(three[0], "accepted", Decimal("10"), "")]
        )
        service.close_committee(manager, committee)
    client = alpha.client("manager")
    base = f"/commissions/{committee.pk}/"

    client.post(f"{base}demandes/", {"demandes": [three[1].pk]})
    client.post(
        f"{base}decisions/",
        decision_data(alpha, committee, {three[0].pk: ("accepted", "999", "")}),
    )
    client.post(f"{base}demandes/{three[0].pk}/retirer/")

    assert reload(alpha, three[1]).committee_id is None
    assert reload(alpha, three[0]).allocated_amount == Decimal("10")
    assert reload(alpha, three[0]).committee_id == committee.pk


def test_empty_session_cannot_be_closed(alpha):
    committee = make_session(alpha)

    response = alpha.client("manager").post(f"/commissions/{committee.pk}/cloture/")

    assert "Cette séance n'a examiné aucune demande" in page_text(response)
    with tenant_context(alpha.structure):
        committee.refresh_from_db()
    assert committee.status == "planned"


def test_list_shows_upcoming_and_past_sessions(alpha):
    today = timezone.localdate()
    make_session(alpha, on=today + timedelta(days=7))
    make_session(alpha, on=today - timedelta(days=7))

    text = visible_text(alpha.client("manager").get("/commissions/"))

    upcoming, _, past = text.partition("Séances passées")
    assert "Commission permanente" in upcoming
    assert "Commission permanente" in past


@pytest.mark.parametrize("role", ROLES)
def test_roles_on_committee_pages(alpha, three, role):
    committee = make_session(alpha, requests=three[:1])
    client = alpha.client(role)
    allowed = role in ALLOWED
    base = f"/commissions/{committee.pk}/"

    pages = ["/commissions/", "/commissions/nouvelle/", base, f"{base}demandes/"]
    pages += [f"{base}decisions/", f"{base}cloture/"]
    statuses = {url: client.get(url).status_code for url in pages}
    removed = client.post(f"{base}demandes/{three[0].pk}/retirer/")
    nav = page_text(client.get("/beneficiaires/"))

    assert all((status == 200) == allowed for status in statuses.values()), statuses
    if not allowed:
        assert set(statuses.values()) == {404}
        assert removed.status_code == 404
        assert reload(alpha, three[0]).committee_id == committee.pk
    assert ('href="/commissions/"' in nav) == allowed


@pytest.mark.parametrize("role", ["reception_agent", "referent"])
def test_refused_roles_cannot_download_pdfs(alpha, three, role):
    committee = make_session(alpha, requests=three[:1])
    manager = alpha.agents["manager"]
    with tenant_context(alpha.structure):
        service.record_decisions(
            manager, committee, [service.Decision(three[0], "accepted", Decimal("10"), "")]
        )
        service.close_committee(manager, committee)
    client = alpha.client(role)

    assert client.get(f"/commissions/{committee.pk}/proces-verbal/").status_code == 404
    assert client.get(f"/commissions/{committee.pk}/courriers/{three[0].pk}/").status_code == 404


def test_agent_of_other_structure_gets_404(alpha, beta, three):
    committee = make_session(alpha, requests=three[:1])
    manager = alpha.agents["manager"]
    with tenant_context(alpha.structure):
        service.record_decisions(
            manager, committee, [service.Decision(three[0], "accepted", Decimal("10"), "")]
        )
        service.close_committee(manager, committee)
    with tenant_context(beta.structure):
        assert not Committee.objects.filter(pk=committee.pk).exists()
    client = beta.client("manager")
    base = f"/commissions/{committee.pk}/"

    for url in [base, f"{base}decisions/", f"{base}proces-verbal/", f"{base}cloture/"]:
        assert client.get(url).status_code == 404, url
    assert client.get(f"{base}courriers/{three[0].pk}/").status_code == 404
    assert client.post(f"{base}demandes/{three[0].pk}/retirer/").status_code == 404
    assert "Aucune séance" in visible_text(client.get("/commissions/"))


def test_printable_keeps_french_signs():
    assert printable("é è à ç œ Œ ’ € « »") == "é è à ç œ Œ ’ € « »"
    assert printable("Ștefan\u202f12") == "Stefan\u00a012"
