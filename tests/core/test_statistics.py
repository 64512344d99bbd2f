"""The "Statistiques" page, the activity report and the national aggregates: figures on a small
known dataset, filters applied to every figure, roles, structures kept apart, query count."""

from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from core.models import AuditEvent, Beneficiary, Followup, FollowupType, HelpRequest
from core.models.beneficiaries import generate_file_number
from core.statistics import Filters, compute, structure_aggregates
from tests.helpers import visible_text

YEAR_2025 = Filters(date(2025, 1, 1), date(2025, 12, 31))
# The structure's domain and two schema switches (django-tenants), session, agent, unread count
# in the header, the filter form's follow-up types, and the nine statistics queries. Pinned: a
# change that adds a query per row, or one more per page, fails here and updates the number on
# purpose.
PAGE_QUERIES = 16


def person(site, status="active", **values):
    with tenant_context(site.structure):
        return Beneficiary.objects.create(
            file_number=generate_file_number(),
            status=status,
            created_by=site.agents["manager"],
            **values,
        )


def interview(site, beneficiary, day, codes=("aide_alimentaire",), **values):
    with tenant_context(site.structure):
        item = Followup.objects.create(
            beneficiary=beneficiary,
            created_by=site.agents["social_worker"],
            date=day,
            medium=values.pop("medium", "phone_call"),
            **values,
        )
        item.followup_types.set(FollowupType.objects.filter(default_code__in=codes))
        return item


def aid_request(site, beneficiary, day, code="aide_alimentaire", **values):
    with tenant_context(site.structure):
        return HelpRequest.objects.create(
            beneficiary=beneficiary,
            created_by=site.agents["social_worker"],
            opening_date=day,
            followup_type=FollowupType.objects.get(default_code=code),
            **values,
        )


@pytest.fixture
def dataset(alpha):
    """Create six files in alpha. The tests below write out their figures of 2025."""
    # 25 on the last day of 2025, the day the ages are computed: "25 à 34 ans".
    anna = person(
        alpha,
        gender="female",
        birth_date=date(2000, 12, 31),
        family_situation="married",
        city="Autun",
    )
    # One day younger: still 24 on 31 December 2025.
    bruno = person(alpha, gender="male", birth_date=date(2001, 1, 1), city=" autun ")
    unknown = person(alpha)
    archived = person(alpha, status="archived", gender="female", birth_date=date(1950, 5, 5))
    last_year = person(alpha, gender="male", birth_date=date(1980, 1, 1), city="Dijon")
    granted_early = person(alpha, gender="other", city="Beaune")

    interview(alpha, anna, date(2025, 3, 10), status="done")
    interview(alpha, unknown, date(2025, 4, 1), codes=("domiciliation",), medium="home_visit")
    interview(alpha, archived, date(2025, 3, 1))
    interview(alpha, last_year, date(2024, 12, 31))
    aid_request(
        alpha,
        bruno,
        date(2025, 5, 2),
        status="accepted",
        requested_amount=Decimal("300"),
        allocated_amount=Decimal("250"),
        decision_date=date(2025, 6, 1),
        payment_date=date(2025, 7, 1),
    )
    # Opened in 2024, granted and paid in 2025: amounts count in 2025, the person does not.
    aid_request(
        alpha,
        granted_early,
        date(2024, 12, 15),
        status="accepted",
        requested_amount=Decimal("120"),
        allocated_amount=Decimal("100"),
        decision_date=date(2025, 1, 10),
        payment_date=date(2025, 2, 1),
    )
    return alpha


def figures(site, filters):
    with tenant_context(site.structure):
        return compute(filters)


def rows(stats, key):
    return {row[0]: row[1:] if len(row) > 2 else row[1] for row in stats.table(key).rows}


def test_people_figures(dataset):
    stats = figures(dataset, YEAR_2025)

    assert stats.people == 3
    assert rows(stats, "gender") == {"Femme": 1, "Homme": 1, "Autre": 0, "Non renseigné": 1}
    ages = rows(stats, "age")
    assert ages["25 à 34 ans"] == 1
    assert ages["- de 25 ans"] == 1
    assert ages["Non renseigné"] == 1
    assert ages["65 ans et +"] == 0  # the archived file
    assert rows(stats, "family_situation")["Marié·e"] == 1
    assert rows(stats, "family_situation")["Non renseignée"] == 2
    assert rows(stats, "city") == {"AUTUN": 2, "Non renseignée": 1}
    assert stats.table("gender").total == ["Total", 3]


def test_activity_figures(dataset):
    stats = figures(dataset, YEAR_2025)

    # The archived file's interview is activity of 2025, but the one of 2024 is not.
    assert stats.interviews == 3
    assert rows(stats, "interviews_type") == {"Aide alimentaire": 2, "Domiciliation": 1}
    mediums = rows(stats, "interviews_medium")
    assert mediums["Entretien téléphonique"] == 2
    assert mediums["Rendez-vous à domicile"] == 1
    assert rows(stats, "interviews_status")["Terminé"] == 1
    assert stats.help_requests == 1
    assert rows(stats, "requests_status")["Accepté"] == 1
    assert rows(stats, "requests_type") == {"Aide alimentaire": 1}
    months = rows(stats, "months")
    assert len(months) == 12
    assert months["mars 2025"] == [2, 0]
    assert months["avril 2025"] == [1, 0]
    assert months["mai 2025"] == [0, 1]
    amounts = rows(stats, "amounts")
    assert amounts == {
        "Aide alimentaire": [Decimal("300.00"), Decimal("350.00"), Decimal("350.00")]
    }


def test_period_filter(dataset):
    stats = figures(dataset, Filters(date(2025, 4, 1), date(2025, 5, 31)))

    assert stats.people == 2  # the person without data, and Bruno
    assert stats.interviews == 1
    assert stats.help_requests == 1
    assert list(rows(stats, "months")) == ["avril 2025", "mai 2025"]
    # Bruno's request was granted in June and paid in July: only the amount requested counts.
    assert rows(stats, "amounts") == {
        "Aide alimentaire": [Decimal("300.00"), Decimal("0.00"), Decimal("0.00")]
    }


def test_followup_type_filter_applies_to_every_figure(dataset):
    with tenant_context(dataset.structure):
        domiciliation = FollowupType.objects.get(default_code="domiciliation")

    stats = figures(dataset, Filters(date(2025, 1, 1), date(2025, 12, 31), domiciliation))

    assert stats.people == 1
    assert rows(stats, "gender")["Non renseigné"] == 1
    assert rows(stats, "gender")["Femme"] == 0
    assert rows(stats, "age")["Non renseigné"] == 1
    assert rows(stats, "city") == {"Non renseignée": 1}
    assert stats.interviews == 1
    assert rows(stats, "interviews_type") == {"Domiciliation": 1}
    assert rows(stats, "interviews_medium")["Entretien téléphonique"] == 0
    assert stats.help_requests == 0
    assert rows(stats, "requests_type") == {}
    assert rows(stats, "amounts") == {}
    assert rows(stats, "months")["mars 2025"] == [0, 0]


def test_two_type_interview_counted_once(alpha):
    someone = person(alpha)
    interview(alpha, someone, date(2025, 2, 2), codes=("aide_alimentaire", "domiciliation"))

    stats = figures(alpha, YEAR_2025)

    assert stats.interviews == 1
    assert rows(stats, "interviews_type") == {"Aide alimentaire": 1, "Domiciliation": 1}


def test_cities_beyond_ten_are_grouped(alpha):
    for index in range(12):
        interview(alpha, person(alpha, city=f"Ville {index:02d}"), date(2025, 2, 2))
    interview(alpha, person(alpha, city="Ville 00"), date(2025, 2, 2))

    cities = rows(figures(alpha, YEAR_2025), "city")

    assert len(cities) == 11
    assert cities["VILLE 00"] == 2
    assert cities["Autres"] == 2


def test_beta_figures_never_include_alpha(dataset, beta):
    stats = figures(beta, YEAR_2025)
    with tenant_context(beta.structure):
        national = structure_aggregates(date(2025, 1, 1), date(2025, 12, 31))

    assert (stats.people, stats.interviews, stats.help_requests) == (0, 0, 0)
    assert rows(stats, "amounts") == {}
    assert all(month["interviews"]["total"] == 0 for month in national["months"].values())
    page = visible_text(beta.client("manager").get("/statistiques/?du=2025-01-01&au=2025-12-31"))
    assert "AUTUN" not in page
    assert "0 personne accompagnée" in page


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("manager", 200),
        ("social_worker", 200),
        ("instructor", 200),
        ("referent", 200),
        ("reception_agent", 404),
    ],
)
def test_page_per_role(alpha, role, status):
    response = alpha.client(role).get("/statistiques/")

    assert response.status_code == status


def test_page_shows_tables_charts_and_report_form(dataset):
    response = dataset.client("manager").get("/statistiques/?du=2025-01-01&au=2025-12-31")
    page = response.content.decode()
    text = visible_text(response)

    assert "3 personnes accompagnées" in text
    assert "Aide alimentaire 300,00 € 350,00 € 350,00 €" in text
    assert "<bar-chart" in page
    assert 'aria-hidden="true"' in page
    assert "vendor/dsfr-chart/BarChart.js" in page
    assert "<script>" not in page  # the CSP forbids inline scripts
    assert "Rapport d'activité" in text


def test_instructor_sees_no_report_form(alpha):
    text = visible_text(alpha.client("instructor").get("/statistiques/"))

    assert "Télécharger le rapport" not in text


def test_invalid_period_falls_back_to_current_year(alpha):
    response = alpha.client("manager").get("/statistiques/?du=2025-05-01&au=2025-01-01")

    assert "Choisissez une date de fin postérieure" in visible_text(response)
    assert response.context["filters"].start.month == 1


def test_nav_shows_statistics_to_allowed_roles(alpha):
    manager = visible_text(alpha.client("manager").get("/tableau-de-bord/"))
    reception = visible_text(alpha.client("reception_agent").get("/tableau-de-bord/"))

    assert "Statistiques" in manager
    assert "Statistiques" not in reception


def count_queries(client, query=""):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/statistiques/{query}")
    assert response.status_code == 200
    return len(queries)


def test_page_query_count(alpha):
    client = alpha.client("manager")
    with tenant_context(alpha.structure):
        type_id = FollowupType.objects.get(default_code="aide_alimentaire").pk
    interview(alpha, person(alpha), date(2025, 2, 2))
    client.get("/statistiques/")
    few = count_queries(client, "?du=2025-01-01&au=2025-12-31")

    for index in range(8):
        someone = person(alpha, city=f"Ville {index}", gender="female")
        interview(alpha, someone, date(2025, 1 + index, 2), codes=("domiciliation", "autre"))
        aid_request(alpha, someone, date(2025, 1 + index, 3), requested_amount=Decimal(10))
    many = count_queries(client, "?du=2025-01-01&au=2025-12-31")
    # Choosing a follow-up type adds the query that checks it.
    filtered = count_queries(client, f"?du=2025-01-01&au=2025-12-31&accompagnement={type_id}")

    assert few == PAGE_QUERIES
    assert many == PAGE_QUERIES
    assert filtered == PAGE_QUERIES + 1


@pytest.mark.parametrize(("role", "status"), [("instructor", 404), ("referent", 404)])
def test_report_refused_without_export_right(alpha, role, status):
    response = alpha.client(role).get("/statistiques/rapport-activite/?annee=2025&format=pdf")

    assert response.status_code == status


def test_pdf_report(dataset):
    response = dataset.client("social_worker").get(
        "/statistiques/rapport-activite/?annee=2025&format=pdf"
    )
    content = b"".join(response.streaming_content)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "rapport-activite-alpha-2025.pdf" in response["Content-Disposition"]
    assert content.startswith(b"%PDF")
    with tenant_context(dataset.structure):
        event = AuditEvent.objects.get(action="export_statistics")
    assert event.actor_id == dataset.agents["social_worker"].pk
    assert event.target_type == "structure"
    assert event.changes == {"year": 2025, "format": "pdf"}


def test_xlsx_report(dataset):
    response = dataset.client("manager").get(
        "/statistiques/rapport-activite/?annee=2025&format=xlsx"
    )
    workbook = load_workbook(BytesIO(b"".join(response.streaming_content)))

    assert response.status_code == 200
    assert workbook.sheetnames[0] == "Synthèse"
    assert "Genre" in workbook.sheetnames
    assert "Montants" in workbook.sheetnames
    gender = workbook["Genre"]
    assert [cell.value for cell in gender[3]] == ["Genre", "Nombre"]
    assert [cell.value for cell in gender[4]] == ["Femme", 1]
    amounts = workbook["Montants"]
    assert [cell.value for cell in amounts[3]] == [
        "Accompagnement",
        "Montant demandé",
        "Montant attribué",
        "Montant payé",
    ]
    assert amounts["C4"].value == 350
    with tenant_context(dataset.structure):
        assert AuditEvent.objects.filter(action="export_statistics").count() == 1


def test_report_with_bad_year_goes_back_to_page(alpha):
    response = alpha.client("manager").get("/statistiques/rapport-activite/?annee=1900&format=pdf")

    assert response.status_code == 302
    with tenant_context(alpha.structure):
        assert not AuditEvent.objects.filter(action="export_statistics").exists()


def test_structure_aggregates(dataset):
    with tenant_context(dataset.structure):
        with CaptureQueriesContext(connection) as queries:
            result = structure_aggregates(date(2025, 1, 1), date(2025, 12, 31))

    # django-tenants sets the schema's search path before the first query.
    assert len([query for query in queries if not query["sql"].startswith("SET")]) == 6
    assert result["period_start"] == "2025-01-01"
    months = result["months"]
    assert list(months)[0] == "2025-01"
    assert len(months) == 12
    assert months["2025-03"]["interviews"] == {
        "total": 2,
        "by_type": {"aide_alimentaire": {"phone_call": 2}},
    }
    # The archived file's interview is activity, but the file is not counted.
    assert months["2025-03"]["active_files"] == 1
    assert months["2025-04"]["interviews"]["by_type"] == {"domiciliation": {"home_visit": 1}}
    assert months["2025-05"]["help_requests"] == {
        "total": 1,
        "by_type": {"aide_alimentaire": {"accepted": 1}},
    }
    assert months["2025-05"]["amounts"] == {
        "requested": "300.00",
        "granted": "0.00",
        "paid": "0.00",
    }
    assert months["2025-06"]["amounts"]["granted"] == "250.00"
    assert months["2025-07"]["amounts"]["paid"] == "250.00"
    assert months["2025-01"]["amounts"]["granted"] == "100.00"
    assert months["2025-02"]["amounts"]["paid"] == "100.00"
    assert sum(month["active_files"] for month in months.values()) == 3
    # Files created during the test run, today, are outside 2025.
    assert all(month["new_files"] == 0 for month in months.values())


def test_structure_aggregates_counts_new_files(alpha):
    with tenant_context(alpha.structure):
        Beneficiary.objects.create(file_number=generate_file_number())
        Beneficiary.objects.create(file_number=generate_file_number(), status="archived")
        # The local date: months are counted in the structure's time zone, not in UTC.
        today = timezone.localdate(Beneficiary.objects.latest("pk").created_at)
        result = structure_aggregates(today.replace(day=1), today)

    assert result["months"][f"{today:%Y-%m}"]["new_files"] == 1
