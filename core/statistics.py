"""The structure's statistics: who was helped, and how, over a period.

Every figure is computed in the current structure's schema with aggregate queries (GROUP BY or
conditional aggregation), so their number does not grow with the data (see
tests/core/test_statistics.py). Two entry points:

- ``compute(filters)`` builds the "Statistiques" page and the activity report (``core.reports``);
- ``structure_aggregates(start, end)`` gives the national statistics monthly counts without
  personal data.

Definitions, shared by both:

- an interview belongs to the period by its date, an aid request by its opening date;
- the people helped are the files with at least one interview or aid request in the period,
  of the chosen follow-up type when there is one;
- archived files are left out of every count of people, but their interviews and aid requests
  still count as activity;
- an interview with several follow-up types counts once under each of them in the "by
  follow-up type" figures, and once in every other figure;
- the amount requested counts by the request's opening date, the amount granted by its
  decision date (the opening date when the decision date is missing) and only for an accepted
  request (or one closed by the person after it was accepted), the amount paid by the payment
  date;
- age is reached on the last day of the period, or today when the period ends later.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth, Upper
from django.db.models.functions.text import Trim
from django.utils import timezone

from core.enums import (
    AGE_BRACKETS,
    BeneficiaryStatus,
    FamilySituation,
    FollowupMedium,
    FollowupStatus,
    Gender,
    HelpRequestStatus,
)
from core.models import Beneficiary, Followup, FollowupType, HelpRequest

MONTHS = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
]
CITIES_SHOWN = 10
NOT_GIVEN = "Non renseigné"
NOT_GIVEN_F = "Non renseignée"
OTHER_CITIES = "Autres"
# A request closed by the person may have been granted first: its amount still counts.
GRANTED_STATUSES = [HelpRequestStatus.ACCEPTED, HelpRequestStatus.CLOSED_BY_BENEFICIARY]
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Filters:
    """Restrictions applied to every figure: a period (both days included), a follow-up type."""

    start: date
    end: date
    followup_type: FollowupType | None = None


@dataclass
class Table:
    """One figure: a table whose first column names the rows and the others hold the values.

    The page, the PDF and the spreadsheet all read this, and the page draws ``chart_series``
    columns (their indexes in ``columns``) as a bar chart.
    """

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    money: bool = False
    total: list[Any] | None = None
    chart_series: list[int] = field(default_factory=lambda: [1])
    horizontal: bool = False
    sheet: str = ""

    def chart(self) -> dict[str, str] | None:
        """Return the attributes of a DSFR ``<bar-chart>`` (JSON ``x``, ``y``, ``name``), or None
        when every value is zero."""
        if not self.rows or not any(row[i] for row in self.rows for i in self.chart_series):
            return None
        labels = [str(row[0]) for row in self.rows]
        return {
            "x": json.dumps([labels] * len(self.chart_series), ensure_ascii=False),
            "y": json.dumps([[float(row[i] or 0) for row in self.rows] for i in self.chart_series]),
            "name": json.dumps([self.columns[i] for i in self.chart_series], ensure_ascii=False),
            "unit": "€" if self.money else "",
            "horizontal": "true" if self.horizontal else "false",
            "palette": "categorical" if len(self.chart_series) > 1 else "default",
        }


@dataclass
class Section:
    key: str
    title: str
    tables: list[Table]


@dataclass
class Statistics:
    filters: Filters
    people: int
    interviews: int
    help_requests: int
    sections: list[Section]

    def table(self, key: str) -> Table:
        for section in self.sections:
            for table in section.tables:
                if table.key == key:
                    return table
        raise KeyError(key)


def default_period(today: date | None = None) -> tuple[date, date]:
    """Return the first and last days of the current calendar year."""
    today = today or timezone.localdate()
    return date(today.year, 1, 1), date(today.year, 12, 31)


def month_label(month: date) -> str:
    return f"{MONTHS[month.month - 1]} {month.year}"


def months_between(start: date, end: date) -> list[date]:
    """Return the first day of every month from ``start``'s month to ``end``'s, both included."""
    months = []
    current = date(start.year, start.month, 1)
    while current <= end:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def _age_reference(filters: Filters) -> date:
    return min(filters.end, timezone.localdate())


# Querysets shared by the page and the national aggregates.


def _followups(filters: Filters) -> QuerySet[Followup]:
    items = Followup.objects.filter(date__gte=filters.start, date__lte=filters.end)
    if filters.followup_type is not None:
        items = items.filter(followup_types=filters.followup_type)
    return items.order_by()


def _help_requests(filters: Filters) -> QuerySet[HelpRequest]:
    items = HelpRequest.objects.filter(
        opening_date__gte=filters.start, opening_date__lte=filters.end
    )
    if filters.followup_type is not None:
        items = items.filter(followup_type=filters.followup_type)
    return items.order_by()


def _people(filters: Filters) -> QuerySet[Beneficiary]:
    """Return the files, not archived, with an interview or an aid request in the period."""
    followups = _followups(filters).filter(beneficiary=OuterRef("pk"))
    requests = _help_requests(filters).filter(beneficiary=OuterRef("pk"))
    return (
        Beneficiary.objects.exclude(status=BeneficiaryStatus.ARCHIVED)
        .filter(Exists(followups) | Exists(requests))
        .order_by()
    )


def _amount_requests(filters: Filters) -> QuerySet[HelpRequest]:
    """Return the aid requests with an amount requested, granted or paid in the period.

    Each is annotated with ``granted_on``, the date ``_granted_q`` reads."""
    items = HelpRequest.objects.annotate(granted_on=Coalesce("decision_date", "opening_date"))
    if filters.followup_type is not None:
        items = items.filter(followup_type=filters.followup_type)
    return items.filter(_requested_q(filters) | _granted_q(filters) | _paid_q(filters)).order_by()


def _requested_q(filters: Filters) -> Q:
    return Q(opening_date__gte=filters.start, opening_date__lte=filters.end)


def _granted_q(filters: Filters) -> Q:
    return Q(
        granted_on__gte=filters.start,
        granted_on__lte=filters.end,
        status__in=GRANTED_STATUSES,
        allocated_amount__isnull=False,
    )


def _paid_q(filters: Filters) -> Q:
    return Q(
        payment_date__gte=filters.start,
        payment_date__lte=filters.end,
        allocated_amount__isnull=False,
    )


def _money(value: Decimal | None) -> Decimal:
    return (value or ZERO).quantize(ZERO)


# The page and the activity report.


def compute(filters: Filters) -> Statistics:
    """Compute every figure of the "Statistiques" page for ``filters``, in 9 queries."""
    type_names = dict(FollowupType.objects.values_list("pk", "name"))
    people = _people(filters)

    genders = Counter(
        dict(people.values_list("gender").annotate(n=Count("pk")).values_list("gender", "n"))
    )
    reference = _age_reference(filters)
    brackets = {
        code: Count(
            "pk",
            filter=Q(
                birth_date__lte=_years_before(reference, low),
                birth_date__gt=_years_before(reference, high + 1),
            ),
        )
        for code, _label, low, high in AGE_BRACKETS
    }
    ages = people.aggregate(total=Count("pk"), **brackets)
    families = Counter(
        dict(
            people.values_list("family_situation")
            .annotate(n=Count("pk"))
            .values_list("family_situation", "n")
        )
    )
    cities = list(
        people.annotate(town=Upper(Trim("city")))
        .values("town")
        .annotate(n=Count("pk"))
        .order_by("-n", "town")
        .values_list("town", "n")
    )

    interview_types = Followup.followup_types.through.objects.filter(
        followup__in=_followups(filters)
    )
    if filters.followup_type is not None:
        interview_types = interview_types.filter(followuptype=filters.followup_type)
    by_type_interviews = Counter(
        dict(
            interview_types.values_list("followuptype")
            .annotate(n=Count("pk"))
            .values_list("followuptype", "n")
            .order_by()
        )
    )
    interview_rows = list(
        _followups(filters)
        .annotate(month=TruncMonth("date"))
        .values("medium", "status", "month")
        .annotate(n=Count("pk"))
        .values_list("medium", "status", "month", "n")
    )
    request_rows = list(
        _help_requests(filters)
        .annotate(month=TruncMonth("opening_date"))
        .values("followup_type", "status", "month")
        .annotate(n=Count("pk"))
        .values_list("followup_type", "status", "month", "n")
    )
    amount_rows = list(
        _amount_requests(filters)
        .values("followup_type")
        .annotate(
            requested=Sum("requested_amount", filter=_requested_q(filters)),
            granted=Sum("allocated_amount", filter=_granted_q(filters)),
            paid=Sum("allocated_amount", filter=_paid_q(filters)),
        )
        .values_list("followup_type", "requested", "granted", "paid")
    )

    total_people = ages["total"]
    interviews_medium: Counter[str] = Counter()
    interviews_status: Counter[str] = Counter()
    interviews_month: Counter[date] = Counter()
    for medium, status, month, n in interview_rows:
        interviews_medium[medium] += n
        interviews_status[status] += n
        interviews_month[month] += n
    requests_type: Counter[int] = Counter()
    requests_status: Counter[str] = Counter()
    requests_month: Counter[date] = Counter()
    for type_id, status, month, n in request_rows:
        requests_type[type_id] += n
        requests_status[status] += n
        requests_month[month] += n

    people_tables = [
        _count_table(
            "gender",
            "Personnes par genre",
            "Genre",
            [(label, genders[value]) for value, label in Gender.choices]
            + [(NOT_GIVEN, genders[""])],
            total_people,
            sheet="Genre",
        ),
        _count_table(
            "age",
            "Personnes par tranche d'âge",
            "Tranche d'âge",
            [(label, ages[code]) for code, label, _low, _high in AGE_BRACKETS]
            + [(NOT_GIVEN, total_people - sum(ages[code] for code, *_ in AGE_BRACKETS))],
            total_people,
            sheet="Âge",
        ),
        _count_table(
            "family_situation",
            "Personnes par situation familiale",
            "Situation familiale",
            [(label, families[value]) for value, label in FamilySituation.choices]
            + [(NOT_GIVEN_F, families[""])],
            total_people,
            sheet="Situation familiale",
        ),
        _count_table(
            "city",
            "Personnes par ville",
            "Ville",
            _city_rows(cities),
            total_people,
            horizontal=True,
            sheet="Ville",
        ),
    ]
    interview_total = sum(interviews_medium.values())
    request_total = sum(requests_status.values())
    interview_tables = [
        _count_table(
            "interviews_type",
            "Entretiens par type d'accompagnement",
            "Accompagnement",
            _by_count(by_type_interviews, type_names),
            None,
            horizontal=True,
            sheet="Entretiens par accompagnement",
        ),
        _count_table(
            "interviews_medium",
            "Entretiens par type d'entretien",
            "Type d'entretien",
            [(label, interviews_medium[value]) for value, label in FollowupMedium.choices],
            interview_total,
            horizontal=True,
            sheet="Entretiens par type",
        ),
        _count_table(
            "interviews_status",
            "Entretiens par statut",
            "Statut",
            [(label, interviews_status[value]) for value, label in FollowupStatus.choices],
            interview_total,
            sheet="Entretiens par statut",
        ),
    ]
    request_tables = [
        _count_table(
            "requests_type",
            "Demandes d'aide par type d'accompagnement",
            "Accompagnement",
            _by_count(requests_type, type_names),
            request_total,
            horizontal=True,
            sheet="Demandes par accompagnement",
        ),
        _count_table(
            "requests_status",
            "Demandes d'aide par statut",
            "Statut",
            [(label, requests_status[value]) for value, label in HelpRequestStatus.choices],
            request_total,
            horizontal=True,
            sheet="Demandes par statut",
        ),
    ]
    months = months_between(filters.start, filters.end)
    month_table = Table(
        key="months",
        title="Entretiens et demandes d'aide par mois",
        columns=["Mois", "Entretiens", "Demandes d'aide"],
        rows=[
            [month_label(month), interviews_month[month], requests_month[month]] for month in months
        ],
        total=["Total", interview_total, request_total],
        chart_series=[1, 2],
        sheet="Activité par mois",
    )
    amount_table = _amount_table(amount_rows, type_names)

    return Statistics(
        filters=filters,
        people=total_people,
        interviews=interview_total,
        help_requests=request_total,
        sections=[
            Section("people", "Personnes accompagnées", people_tables),
            Section("interviews", "Entretiens", interview_tables),
            Section("help_requests", "Demandes d'aide", request_tables),
            Section("months", "Activité par mois", [month_table]),
            Section("amounts", "Montants des aides", [amount_table]),
        ],
    )


def _count_table(
    key: str,
    title: str,
    header: str,
    rows: list[tuple[str, int]],
    total: int | None,
    horizontal: bool = False,
    sheet: str = "",
) -> Table:
    return Table(
        key=key,
        title=title,
        columns=[header, "Nombre"],
        rows=[[label, n] for label, n in rows],
        total=["Total", total] if total is not None else None,
        horizontal=horizontal,
        sheet=sheet,
    )


def _city_rows(cities: list[tuple[str | None, int]]) -> list[tuple[str, int]]:
    named = [(town, n) for town, n in cities if town]
    unknown = sum(n for town, n in cities if not town)
    rows = list(named[:CITIES_SHOWN])
    others = sum(n for _town, n in named[CITIES_SHOWN:])
    if others:
        rows.append((OTHER_CITIES, others))
    if unknown:
        rows.append((NOT_GIVEN_F, unknown))
    return rows


def _by_count(counts: Counter[int], names: dict[int, str]) -> list[tuple[str, int]]:
    """Return the follow-up types with a non-zero count, most frequent first."""
    rows = [(names.get(type_id, "?"), n) for type_id, n in counts.items() if n]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _amount_table(
    rows: list[tuple[int, Decimal | None, Decimal | None, Decimal | None]], names: dict[int, str]
) -> Table:
    lines = sorted(
        (
            [names.get(type_id, "?"), _money(requested), _money(granted), _money(paid)]
            for type_id, requested, granted, paid in rows
            if requested or granted or paid
        ),
        key=lambda line: (-line[2], -line[1], line[0]),
    )
    total = ["Total", *(sum((line[i] for line in lines), ZERO) for i in (1, 2, 3))]
    return Table(
        key="amounts",
        title="Montants des aides par type d'accompagnement",
        columns=["Accompagnement", "Montant demandé", "Montant attribué", "Montant payé"],
        rows=lines,
        money=True,
        total=total,
        chart_series=[1, 2, 3],
        horizontal=True,
        sheet="Montants",
    )


# The national statistics.


def _type_key(default_code: str, name: str) -> str:
    return default_code or name


def structure_aggregates(period_start: date, period_end: date) -> dict[str, Any]:
    """Return the current structure's monthly counts for the national statistics, without
    personal data.

    Runs in the schema the connection is set to (use ``tenant_context(structure)``), with the
    definitions of this module's docstring (archived files left out of the files counted).
    Both days are included; a month only partly in the period counts only its days inside.
    Every month of the period is present, with zeros when nothing happened. Return shape::

        {
            "period_start": "2025-01-01",          # ISO dates, as given
            "period_end": "2025-12-31",
            "months": {
                "2025-01": {                       # "YYYY-MM", one key per month of the period
                    # distinct files (not archived) with an interview or an aid request
                    # opened in the month
                    "active_files": 12,
                    # files (not archived) created in the month (Europe/Paris time)
                    "new_files": 3,
                    "interviews": {
                        "total": 20,               # interviews dated in the month
                        # {follow-up type key: {medium: count}}; an interview with several
                        # types counts under each, so these may add up to more than "total"
                        "by_type": {"aide_alimentaire": {"phone_call": 4}},
                    },
                    "help_requests": {
                        "total": 5,                # aid requests opened in the month
                        # {follow-up type key: {current status: count}}
                        "by_type": {"aide_alimentaire": {"accepted": 2}},
                    },
                    "amounts": {                   # Decimals as strings, two decimals, euros
                        "requested": "300.00",     # requested amounts, by opening month
                        "granted": "250.00",       # granted, by decision (else opening) month
                        "paid": "100.00",          # paid, by payment month
                    },
                    # The same amounts by follow-up type key, each with the number of aid
                    # requests it adds up. For "requested", these are the requests opened in
                    # the month with a requested amount. For "granted" and "paid", they are
                    # the requests counted in the amounts above.
                    "amounts_by_type": {
                        "aide_alimentaire": {
                            "requested": {"count": 1, "amount": "300.00"},
                            "granted": {"count": 1, "amount": "250.00"},
                            "paid": {"count": 1, "amount": "100.00"},
                        },
                    },
                },
            },
        }

    A follow-up type key is the type's ``default_code`` (e.g. "aide_alimentaire"), or its name
    for a type the structure created itself; mediums are ``core.enums.FollowupMedium`` values,
    statuses ``core.enums.HelpRequestStatus`` values. Types, mediums and statuses with a zero
    count are left out of ``by_type``, and types with no amount counted out of
    ``amounts_by_type``. Runs 6 queries.
    """
    filters = Filters(period_start, period_end)
    months = {
        f"{month:%Y-%m}": {
            "active_files": 0,
            "new_files": 0,
            "interviews": {"total": 0, "by_type": {}},
            "help_requests": {"total": 0, "by_type": {}},
            "amounts": {"requested": ZERO, "granted": ZERO, "paid": ZERO},
            "amounts_by_type": {},
        }
        for month in months_between(period_start, period_end)
    }

    def add(target: dict[str, Any], key: str, inner: str, n: int) -> None:
        target.setdefault(key, {})
        target[key][inner] = target[key].get(inner, 0) + n

    not_archived = ~Q(beneficiary__status=BeneficiaryStatus.ARCHIVED)
    activity = (
        _followups(filters)
        .filter(not_archived)
        .annotate(month=TruncMonth("date"))
        .values("beneficiary_id", "month")
        .union(
            _help_requests(filters)
            .filter(not_archived)
            .annotate(month=TruncMonth("opening_date"))
            .values("beneficiary_id", "month"),
            all=True,
        )
    )
    sql, params = activity.query.sql_with_params()
    with connection.cursor() as cursor:
        # Distinct files per month across both tables, counted by the database.
        cursor.execute(
            f"SELECT activity.month, COUNT(DISTINCT activity.beneficiary_id) "  # noqa: S608
            f"FROM ({sql}) AS activity GROUP BY activity.month",
            params,
        )
        for month, n in cursor.fetchall():
            months[f"{month:%Y-%m}"]["active_files"] = n

    created = (
        Beneficiary.objects.exclude(status=BeneficiaryStatus.ARCHIVED)
        .annotate(created_on=TruncMonth("created_at"))
        .filter(created_at__date__gte=period_start, created_at__date__lte=period_end)
        .values("created_on")
        .annotate(n=Count("pk"))
        .values_list("created_on", "n")
        .order_by()
    )
    for month, n in created:
        months[f"{timezone.localtime(month):%Y-%m}"]["new_files"] += n

    interview_totals = (
        _followups(filters)
        .annotate(month=TruncMonth("date"))
        .values("month")
        .annotate(n=Count("pk"))
        .values_list("month", "n")
    )
    for month, n in interview_totals:
        months[f"{month:%Y-%m}"]["interviews"]["total"] = n
    interview_types = (
        Followup.followup_types.through.objects.filter(
            followup__date__gte=period_start, followup__date__lte=period_end
        )
        .annotate(
            month=TruncMonth("followup__date"),
            code=F("followuptype__default_code"),
            type_name=F("followuptype__name"),
            medium=F("followup__medium"),
        )
        .values("month", "code", "type_name", "medium")
        .annotate(n=Count("pk"))
        .values_list("month", "code", "type_name", "medium", "n")
        .order_by()
    )
    for month, code, name, medium, n in interview_types:
        add(months[f"{month:%Y-%m}"]["interviews"]["by_type"], _type_key(code, name), medium, n)

    requests = (
        _help_requests(filters)
        .annotate(
            month=TruncMonth("opening_date"),
            code=F("followup_type__default_code"),
            type_name=F("followup_type__name"),
        )
        .values("month", "code", "type_name", "status")
        .annotate(n=Count("pk"))
        .values_list("month", "code", "type_name", "status", "n")
    )
    for month, code, name, status, n in requests:
        entry = months[f"{month:%Y-%m}"]["help_requests"]
        entry["total"] += n
        add(entry["by_type"], _type_key(code, name), status, n)

    # One query: each request adds its amounts to up to three months, under its type. The
    # counts let the national statistics hide an amount made of too few requests.
    requested_q = _requested_q(filters) & Q(requested_amount__isnull=False)
    amounts = (
        _amount_requests(filters)
        .annotate(
            requested_month=TruncMonth("opening_date"),
            granted_month=TruncMonth("granted_on"),
            paid_month=TruncMonth("payment_date"),
            code=F("followup_type__default_code"),
            type_name=F("followup_type__name"),
        )
        .values("requested_month", "granted_month", "paid_month", "code", "type_name")
        .annotate(
            requested=Sum("requested_amount", filter=requested_q),
            requested_count=Count("pk", filter=requested_q),
            granted=Sum("allocated_amount", filter=_granted_q(filters)),
            granted_count=Count("pk", filter=_granted_q(filters)),
            paid=Sum("allocated_amount", filter=_paid_q(filters)),
            paid_count=Count("pk", filter=_paid_q(filters)),
        )
        .values_list(
            "requested_month", "granted_month", "paid_month", "code", "type_name",
            "requested", "requested_count", "granted", "granted_count", "paid", "paid_count",
        )
    )  # fmt: skip
    for row in amounts:
        requested_month, granted_month, paid_month, code, name = row[:5]
        requested, requested_count, granted, granted_count, paid, paid_count = row[5:]
        for month, kind, value, count in (
            (requested_month, "requested", requested, requested_count),
            (granted_month, "granted", granted, granted_count),
            (paid_month, "paid", paid, paid_count),
        ):
            if not count:
                continue
            entry = months[f"{month:%Y-%m}"]
            entry["amounts"][kind] += value or ZERO
            by_type = entry["amounts_by_type"].setdefault(
                _type_key(code, name),
                {key: {"count": 0, "amount": ZERO} for key in ("requested", "granted", "paid")},
            )
            by_type[kind]["count"] += count
            by_type[kind]["amount"] += value or ZERO

    for entry in months.values():
        entry["amounts"] = {kind: str(_money(value)) for kind, value in entry["amounts"].items()}
        for by_kind in entry["amounts_by_type"].values():
            for figure in by_kind.values():
                figure["amount"] = str(_money(figure["amount"]))
    return {
        "period_start": period_start.isoformat(),
        "period_end": period_end.isoformat(),
        "months": months,
    }
