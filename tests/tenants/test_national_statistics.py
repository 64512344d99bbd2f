"""National statistics: the snapshot, its refresh, the statistical secret, the API and the
console pages."""

import html
import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_tenants.utils import tenant_context

from core.models import Beneficiary, Followup, FollowupType, HelpRequest
from core.models.beneficiaries import generate_file_number
from core.statistics import structure_aggregates
from tenants import national_statistics as stats
from tenants.models import NationalApiToken, StatisticsSnapshot, Structure

START, END = date(2025, 1, 1), date(2025, 3, 1)
PERIOD = ["--since", "2025-01", "--until", "2025-03"]
API = "/api/nationale/statistiques/"
FIELDS = ["month", "indicator", "dimension", "count", "amount"]


def person(site, name="Dupontel"):
    with tenant_context(site.structure):
        return Beneficiary.objects.create(
            file_number=generate_file_number(),
            usual_name=name,
            first_names="Gaspard",
            email="gaspard.dupontel@example.test",
            created_by=site.agents["manager"],
        )


def interviews(site, count, day, medium="phone_call", codes=("aide_alimentaire",)):
    with tenant_context(site.structure):
        types = list(FollowupType.objects.filter(default_code__in=codes))
        for index in range(count):
            item = Followup.objects.create(
                beneficiary=person(site, f"Personne{index}"),
                created_by=site.agents["social_worker"],
                date=day,
                medium=medium,
                synthesis="Très confidentiel",
            )
            item.followup_types.set(types)


def aid_requests(
    site, count, day, status="investigation_ongoing", code="aide_alimentaire", **values
):
    with tenant_context(site.structure):
        kind = FollowupType.objects.get(default_code=code)
        for index in range(count):
            HelpRequest.objects.create(
                beneficiary=person(site, f"Demandeur{index}"),
                created_by=site.agents["social_worker"],
                opening_date=day,
                followup_type=kind,
                status=status,
                **values,
            )


def snapshot(structure):
    return sorted(
        StatisticsSnapshot.objects.filter(structure=structure).values_list(*FIELDS),
        key=repr,
    )


def refresh(**kwargs):
    output = StringIO()
    call_command("refresh_national_statistics", *PERIOD, stdout=output, **kwargs)
    return output.getvalue()


@pytest.fixture
def dataset(alpha, beta):
    interviews(alpha, 3, date(2025, 1, 10))
    interviews(alpha, 7, date(2025, 2, 3), medium="home_visit", codes=("aide_alimentaire", "puma"))
    aid_requests(alpha, 6, date(2025, 2, 4), status="accepted", allocated_amount=Decimal("100"))
    aid_requests(alpha, 2, date(2025, 2, 5), status="refused", refusal_reason="Hors barème")
    interviews(beta, 12, date(2025, 1, 20))
    aid_requests(beta, 9, date(2025, 2, 8))
    return alpha, beta


def national_token():
    token, secret = NationalApiToken.issue("Tableau de bord test")
    return token, Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {secret}")


# --- Refresh -------------------------------------------------------------------------------


def test_snapshot_equals_the_structures_aggregates(dataset):
    alpha, beta = dataset
    refresh()

    for site in (alpha, beta):
        with tenant_context(site.structure):
            expected = stats.figures_from_aggregates(structure_aggregates(START, date(2025, 3, 31)))
        rows = [(f.month, f.indicator, f.dimension, f.count, f.amount) for f in expected]
        assert snapshot(site.structure) == sorted(rows, key=repr)

    january = StatisticsSnapshot.objects.get(
        structure=alpha.structure, month=START, indicator="interviews", dimension=""
    )
    assert january.count == 3
    granted = StatisticsSnapshot.objects.get(
        structure=alpha.structure, month=date(2025, 2, 1), indicator="aid_granted", dimension=""
    )
    assert granted.count == 6
    assert granted.amount == Decimal("600.00")
    national = StatisticsSnapshot.objects.get(
        structure=None, month=START, indicator="interviews", dimension=""
    )
    assert national.count == 15


def test_suspended_and_provisioning_structures_are_skipped_and_reported(dataset, caplog):
    alpha, beta = dataset
    beta.structure.status = Structure.Status.SUSPENDED
    beta.structure.save(update_fields=["status"])
    Structure.objects.create(
        schema_name="delta",
        slug="delta",
        name="CCAS Delta",
        kind="ccas",
        insee_code="71014",
        address="1 rue",
        status=Structure.Status.PROVISIONING,
    )

    output = refresh()

    assert "beta: ignorée (suspendue)" in output
    assert "delta: ignorée (en cours de création)" in output
    assert "1 structure(s) mise(s) à jour, 2 ignorée(s)" in output
    assert any("beta" in record.getMessage() for record in caplog.records)
    assert snapshot(alpha.structure)
    assert not StatisticsSnapshot.objects.filter(structure=beta.structure).exists()


def test_rerun_is_idempotent(dataset):
    alpha, _ = dataset
    refresh()
    first = sorted(
        StatisticsSnapshot.objects.values_list(*FIELDS, "structure", "suppressed"), key=repr
    )
    refresh()
    second = sorted(
        StatisticsSnapshot.objects.values_list(*FIELDS, "structure", "suppressed"), key=repr
    )

    assert first == second


def failing_for_beta(period_start, period_end):
    from django.db import connection

    if connection.tenant.slug == "beta":
        raise RuntimeError("interrupted")
    return structure_aggregates(period_start, period_end)


def test_interrupted_run_hides_and_rerun_repairs(dataset, settings):
    alpha, beta = dataset
    refresh()
    clean = sorted(
        StatisticsSnapshot.objects.values_list(*FIELDS, "structure", "suppressed"), key=repr
    )

    settings.STRUCTURE_AGGREGATES_FUNCTION = (
        "tests.tenants.test_national_statistics.failing_for_beta"
    )
    with pytest.raises(CommandError):
        refresh(stderr=StringIO())
    # beta's earlier rows are kept; nothing was half-written.
    assert snapshot(beta.structure)

    settings.STRUCTURE_AGGREGATES_FUNCTION = "core.statistics.structure_aggregates"
    refresh()
    again = sorted(
        StatisticsSnapshot.objects.values_list(*FIELDS, "structure", "suppressed"), key=repr
    )
    assert again == clean


# --- Statistical secret --------------------------------------------------------------------


def attack(values, hidden):
    """Every value an attacker reads by subtracting published figures from a published total."""
    found = {}
    for members, total in stats.relations(values):
        unknown = [key for key in members if key in hidden]
        if len(unknown) == 1:
            known = [key for key in members if key not in hidden]
            cells = sum(values.get(key, 0) for key in known if key != total)
            if unknown[0] == total:
                found[unknown[0]] = cells
            else:
                found[unknown[0]] = values.get(total, 0) - cells
    return found


def table():
    """Three structures' aid requests by type and status, with true national totals."""
    cells = {
        (1, "aide/accepted"): 3,
        (1, "aide/refused"): 12,
        (1, "puma/accepted"): 20,
        (2, "aide/accepted"): 30,
        (2, "puma/accepted"): 8,
        (3, "aide/accepted"): 40,
        (3, "aide/refused"): 1,
        (3, "puma/accepted"): 9,
    }
    values = {}
    for (structure, dimension), count in cells.items():
        code, status = dimension.split("/")
        for indicator, dim in [
            ("aid_requests_by_type_status", dimension),
            ("aid_requests_by_type", code),
            ("aid_requests_by_status", status),
            ("aid_requests", ""),
        ]:
            for owner in (structure, None):
                key = (indicator, owner, dim)
                values[key] = values.get(key, 0) + count
    return values


def test_primary_and_complementary_suppression_resist_subtraction():
    values = table()

    hidden = stats.suppress(values, 5)

    assert ("aid_requests_by_type_status", 1, "aide/accepted") in hidden
    assert ("aid_requests_by_type_status", 3, "aide/refused") in hidden
    assert ("aid_requests_by_status", 3, "refused") in hidden
    # No relation is left with a single hidden figure, so no subtraction reveals one.
    assert attack(values, hidden) == {}
    for members, _ in stats.relations(values):
        assert sum(key in hidden for key in members) != 1


def test_primary_suppression_alone_would_be_undone_by_subtraction():
    values = table()
    primary = {key for key, count in values.items() if 0 < count < 5}

    revealed = attack(values, primary)

    assert revealed[("aid_requests_by_type_status", 1, "aide/accepted")] == 3


def test_subtraction_attack_through_the_api(dataset):
    """alpha has 3 interviews in January, beta 12: the national total is published, so beta's
    figure must be hidden too, or 15 - 12 would give alpha's."""
    alpha, beta = dataset
    refresh()
    _, client = national_token()

    national = client.get(API, {"debut": "2025-01", "fin": "2025-01"}).json()
    structures = client.get(API + "structures/", {"debut": "2025-01", "fin": "2025-01"}).json()

    total = national["figures"]["interviews"]["total"]
    per_structure = {
        item["slug"]: item["figures"]["interviews"]["total"] for item in structures["structures"]
    }
    assert per_structure["alpha"] == [None]
    assert per_structure["beta"] == [None]
    assert total == [15]
    published = [series[0] for series in per_structure.values() if series[0] is not None]
    assert total[0] - sum(published) == 15  # the sum of two hidden figures, not one


def test_aggregates_count_granted_and_paid_requests_by_type(alpha):
    aid_requests(alpha, 2, date(2025, 1, 6), status="accepted", allocated_amount=Decimal("80"))
    aid_requests(
        alpha,
        1,
        date(2025, 1, 7),
        status="accepted",
        code="puma",
        requested_amount=Decimal("300"),
        allocated_amount=Decimal("250"),
        decision_date=date(2025, 2, 2),
        payment_date=date(2025, 3, 3),
    )

    with tenant_context(alpha.structure):
        months = structure_aggregates(START, date(2025, 3, 31))["months"]

    food = months["2025-01"]["amounts_by_type"]["aide_alimentaire"]
    assert food["granted"] == {"count": 2, "amount": "160.00"}
    assert food["requested"] == {"count": 0, "amount": "0.00"}
    assert months["2025-01"]["amounts_by_type"]["puma"]["requested"] == {
        "count": 1,
        "amount": "300.00",
    }
    assert months["2025-02"]["amounts_by_type"]["puma"]["granted"] == {
        "count": 1,
        "amount": "250.00",
    }
    assert months["2025-03"]["amounts_by_type"]["puma"]["paid"] == {
        "count": 1,
        "amount": "250.00",
    }
    assert months["2025-03"]["amounts"]["paid"] == "250.00"


def test_granted_amount_is_suppressed_with_its_own_count(alpha):
    """Nine requests opened, one granted: the count of requests is published, the amount of the
    single grant is not."""
    aid_requests(alpha, 8, date(2025, 2, 4))
    aid_requests(alpha, 1, date(2025, 2, 5), status="accepted", allocated_amount=Decimal("320"))
    refresh()
    _, client = national_token()

    body = client.get(API + "structures/alpha/", {"debut": "2025-02", "fin": "2025-02"}).json()

    figures = body["structure"]["figures"]
    assert figures["aid_requests"]["total"] == [9]
    assert figures["aid_granted"]["total"] == {"count": [None], "amount": [None]}
    assert figures["aid_granted"]["by_type"]["aide_alimentaire"] == {
        "count": [None],
        "amount": [None],
    }
    assert "320" not in json.dumps(body)


def test_paid_amount_without_request_opened_is_suppressed(alpha):
    """A payment in March of a request opened in January: March has no request opened, and
    its single payment must still be hidden."""
    aid_requests(
        alpha,
        1,
        date(2025, 1, 6),
        status="accepted",
        allocated_amount=Decimal("410"),
        payment_date=date(2025, 3, 2),
    )
    refresh()
    _, client = national_token()

    body = client.get(API + "structures/alpha/", {"debut": "2025-03", "fin": "2025-03"}).json()
    national = client.get(API, {"debut": "2025-03", "fin": "2025-03"}).json()

    assert body["structure"]["figures"]["aid_requests"]["total"] == [0]
    assert body["structure"]["figures"]["aid_paid"]["total"] == {
        "count": [None],
        "amount": [None],
    }
    assert national["figures"]["aid_paid"]["total"]["amount"] == [None]
    assert "410" not in json.dumps(national)


def published_amounts(client, month):
    """The amount families of one month, as the API publishes them: {owner: {family: {category:
    (count, amount)}}}, the owner ``None`` being the country and the category "" the total."""
    period = {"debut": month, "fin": month}
    national = client.get(API, period).json()
    listing = client.get(API + "structures/", period).json()
    owners = {None: national["figures"]}
    owners.update({item["slug"]: item["figures"] for item in listing["structures"]})
    result = {}
    for owner, figures in owners.items():
        for family in ("aid_requested", "aid_granted", "aid_paid"):
            series = {"": figures[family]["total"], **figures[family]["by_type"]}
            result.setdefault(owner, {})[family] = {
                category: (pair["count"][0], pair["amount"][0]) for category, pair in series.items()
            }
    return result


def single_hidden_relations(amounts):
    """Relations (a breakdown and its total, or structures and the country) in which exactly
    one amount is hidden: subtracting the published ones from the total would reveal it."""
    leaks = []
    owners = list(amounts)
    for family in ("aid_requested", "aid_granted", "aid_paid"):
        for owner in owners:
            cells = amounts[owner][family]
            if sum(amount is None for _, amount in cells.values()) == 1:
                leaks.append((family, owner, "row"))
        categories = {category for owner in owners for category in amounts[owner][family]}
        for category in categories:
            column = [amounts[owner][family].get(category, (0, "0.00"))[1] for owner in owners]
            if sum(amount is None for amount in column) == 1:
                leaks.append((family, category, "column"))
    return leaks


def test_subtraction_attack_on_amounts(alpha, beta):
    """alpha's single "puma" grant is hidden; without complements, alpha's total minus its
    published types, or the country's amount minus beta's, would give its 250 euros."""
    aid_requests(alpha, 6, date(2025, 2, 4), status="accepted", allocated_amount=Decimal("100"))
    aid_requests(
        alpha, 1, date(2025, 2, 4), status="accepted", code="puma", allocated_amount=Decimal("250")
    )
    aid_requests(beta, 8, date(2025, 2, 6), status="accepted", allocated_amount=Decimal("50"))
    refresh()
    _, client = national_token()

    amounts = published_amounts(client, "2025-02")

    granted = {owner: amounts[owner]["aid_granted"] for owner in amounts}
    assert granted["alpha"]["puma"] == (None, None)
    assert granted[None]["puma"] == (None, None)
    # The only other type of alpha's total is its complement.
    assert granted["alpha"]["aide_alimentaire"] == (None, None)
    assert granted[None][""] == (15, "1250.00")
    assert single_hidden_relations(amounts) == []
    published_types = [
        Decimal(amount) for category, (_, amount) in granted["alpha"].items()
        if category and amount is not None
    ]  # fmt: skip
    assert Decimal("250.00") not in published_types


def test_amount_attack_finds_a_leak_without_complements():
    """The checker above is able to fail: primary suppression alone leaves single hidden
    amounts."""
    amounts = {
        None: {"aid_granted": {"": (15, "1250.00"), "puma": (None, None)}},
        "alpha": {"aid_granted": {"": (7, "850.00"), "puma": (None, None)}},
    }
    for owner in amounts:
        amounts[owner]["aid_requested"] = {"": (0, "0.00")}
        amounts[owner]["aid_paid"] = {"": (0, "0.00")}

    assert ("aid_granted", "alpha", "row") in single_hidden_relations(amounts)


def test_threshold_comes_from_the_setting(dataset, settings):
    settings.NATIONAL_STATISTICS_THRESHOLD = 2
    refresh()
    _, client = national_token()

    body = client.get(API + "structures/alpha/", {"debut": "2025-01", "fin": "2025-01"}).json()

    assert body["threshold"] == 2
    assert body["structure"]["figures"]["interviews"]["total"] == [3]


# --- API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [API, API + "structures/", API + "structures/alpha/"])
def test_api_requires_a_token(db, path):
    response = Client(HTTP_HOST="localhost").get(path)

    assert response.status_code == 401
    assert "Authentification requise" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_api_refuses_unknown_and_revoked_tokens(db):
    token, client = national_token()
    assert client.get(API).status_code == 200

    token.revoke()
    response = client.get(API)
    unknown = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Bearer ssn_inconnu").get(API)

    assert response.status_code == 401
    assert response.json()["detail"] == "Jeton invalide ou révoqué."
    assert unknown.status_code == 401


def test_national_session_is_not_enough_for_the_api(national):
    assert national.get(API).status_code == 401


def test_api_is_not_served_on_a_structure_host(alpha):
    _, client = national_token()
    response = client.get(API, HTTP_HOST=alpha.host)
    assert response.status_code == 404


def test_structure_list_is_paginated(dataset, settings):
    refresh()
    _, client = national_token()

    first = client.get(API + "structures/", {"page": 1}).json()
    beyond = client.get(API + "structures/", {"page": 2}).json()
    invalid = client.get(API + "structures/", {"page": "zéro"})

    assert first["count"] == 2
    assert first["next_page"] is None
    assert [item["slug"] for item in first["structures"]] == ["alpha", "beta"]
    assert beyond["structures"] == []
    assert invalid.status_code == 400


def test_api_rejects_a_bad_period(db):
    _, client = national_token()
    response = client.get(API, {"debut": "2025-13"})
    assert response.status_code == 400
    assert "Mois invalide" in json.dumps(response.json(), ensure_ascii=False)


def test_no_personal_data_in_responses(dataset):
    alpha, _ = dataset
    with tenant_context(alpha.structure):
        own = FollowupType.objects.create(name="Aide Mme Dupontel", kind="optional")
        item = Followup.objects.create(
            beneficiary=Beneficiary.objects.first(),
            created_by=alpha.agents["social_worker"],
            date=date(2025, 1, 11),
            medium="email",
        )
        item.followup_types.set([own])
        file_numbers = list(Beneficiary.objects.values_list("file_number", flat=True))
    refresh()
    _, client = national_token()

    bodies = [
        client.get(path, {"debut": "2025-01", "fin": "2025-03"}).content.decode()
        for path in (API, API + "structures/", API + "structures/alpha/")
    ]

    for body in bodies:
        for forbidden in ["Dupontel", "Gaspard", "example.test", "confidentiel", "Hors barème"]:
            assert forbidden not in body
        assert not any(number in body for number in file_numbers)
    assert '"autre"' in bodies[2]


# --- Console -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/console/statistiques/", "/console/statistiques/jetons/"])
def test_console_pages_are_national_only(alpha, path):
    anonymous = Client(HTTP_HOST="localhost").get(path)
    agent = alpha.client("manager").get(path)

    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/connexion/")
    assert agent.status_code == 404


def test_console_shows_published_figures_with_tables_and_charts(dataset, national):
    refresh()

    response = national.get("/console/statistiques/", {"debut": "2025-01", "fin": "2025-03"})
    alpha_page = national.get(
        "/console/statistiques/", {"structure": "alpha", "debut": "2025-01", "fin": "2025-01"}
    )

    content = html.unescape(response.content.decode())
    assert response.status_code == 200
    assert "<bar-chart" in content
    assert "<caption>Dossiers, entretiens et demandes d'aide par mois</caption>" in content
    assert "secret statistique" in alpha_page.content.decode()


def test_console_token_stored_hashed(national):
    response = national.post("/console/statistiques/jetons/", {"name": "DREES"})

    token = NationalApiToken.objects.get(name="DREES")
    content = response.content.decode()
    secret = content.split('<code id="jeton">')[1].split("</code>")[0]
    assert secret.startswith("ssn_")
    assert token.token_hash != secret
    assert secret not in token.token_hash
    assert response["Cache-Control"] == "no-store"
    assert secret not in national.get("/console/statistiques/jetons/").content.decode()
    api = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get(API).status_code == 200

    national.post(f"/console/statistiques/jetons/{token.pk}/revocation/")

    assert api.get(API).status_code == 401
