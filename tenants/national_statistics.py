"""National statistics: a monthly snapshot of every structure's aggregates, in the public
schema, and the statistical secret applied to what the national API and console show.

Refresh
-------
``refresh`` visits each structure explicitly (``tenant_context``), calls the function named by
the setting ``STRUCTURE_AGGREGATES_FUNCTION`` (``core.statistics.structure_aggregates``: this
app never imports ``core``) and replaces that structure's rows of the period in one
transaction. Structures being provisioned or suspended are skipped and reported; their earlier
rows, if any, stay. New rows are stored suppressed; ``publish`` then decides, in one
transaction, which figures may be shown and recomputes the national totals. An interrupted run
therefore shows at worst a few structures' new figures as suppressed, and a rerun repairs it.

Indicators
----------
Read from ``core.statistics.structure_aggregates`` (see its docstring for the definitions):

=================================  ==========================================================
indicator (dimension)              meaning
=================================  ==========================================================
``active_files``                   files with an interview or aid request in the month
``new_files``                      files created in the month
``interviews``                     interviews of the month
``interviews_by_type`` (type)      interviews of a follow-up type; an interview with several
                                   types counts under each, so these do not add up to
                                   ``interviews``
``interviews_by_type_medium``      the same by medium (``type/medium``); they add up to
                                   ``interviews_by_type``
``aid_requests``                   aid requests opened in the month, with the amounts
                                   requested, granted and paid in the month
``aid_requests_by_type`` (type)    they add up to ``aid_requests``
``aid_requests_by_status``         they add up to ``aid_requests``
``aid_requests_by_type_status``    ``type/status``; they add up to ``aid_requests_by_type`` of
                                   the type and to ``aid_requests_by_status`` of the status
``aid_requested``                  aid requests opened in the month with a requested amount,
                                   and the sum of those amounts
``aid_granted``                    aid requests granted in the month (by decision date, else
                                   opening date) with an allocated amount, and its sum
``aid_paid``                       aid requests paid in the month, and the sum paid
``aid_requested_by_type`` (type),  the same by type; they add up to the indicator without
``aid_granted_by_type``,           ``_by_type``, counts and amounts alike
``aid_paid_by_type``
=================================  ==========================================================

A type is the follow-up type's code; a structure's own types, whose names are free text, are
counted under ``autre``.

Statistical secret
------------------
Each month's figures are linked by linear relations, which the rule below protects:

* column: the national figure of an indicator and category is the sum of the structures';
* row: inside one structure (or the country), the breakdowns above add up to their totals.

The rule, applied per month on the true counts (national totals are computed from every
structure's true figures, never from the published ones):

1. Primary suppression: every figure, total or not, with ``0 < count < threshold``
   (``NATIONAL_STATISTICS_THRESHOLD``, default 5) is suppressed.
2. Complementary suppression, repeated until nothing changes: in every relation where exactly
   one figure is suppressed, also suppress the smallest other non-zero figure of that relation
   that is not its total (ties broken in a fixed order); when there is none, suppress the
   relation's total.

After step 2 no relation has exactly one hidden figure, so subtracting published figures from
a published total gives at best the sum of two or more hidden figures. Zeros are published (a
category absent from a row is zero): a zero describes no one, and it is never chosen as a
complement, since it could be guessed.

An amount is the sum over the aid requests its row counts, and it is published or hidden with
that count. Amounts follow the same relations as their counts (by type to total, structures to
the country), so hiding the same figures protects them too: an amount made of fewer requests
than the threshold is never published, nor found by subtraction. The rule counts contributors
only: it does not detect one request that makes most of a published amount (a dominance rule).
Figures are published by month only: a sum over a period would add relations. The rule does not
solve every system of equations across rows and columns at once (that takes linear
programming, as tau-ARGUS does); what remains possible is narrowing a hidden figure to an
interval, not reading its value.
"""

import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, transaction
from django.db.models import Case, F, Max, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tenants.utils import tenant_context

from tenants.models import Structure
from tenants.models_statistics import StatisticsSnapshot

logger = logging.getLogger(__name__)

ACTIVE_FILES = "active_files"
NEW_FILES = "new_files"
INTERVIEWS = "interviews"
INTERVIEWS_BY_TYPE = "interviews_by_type"
INTERVIEWS_BY_TYPE_MEDIUM = "interviews_by_type_medium"
AID_REQUESTS = "aid_requests"
AID_REQUESTS_BY_TYPE = "aid_requests_by_type"
AID_REQUESTS_BY_STATUS = "aid_requests_by_status"
AID_REQUESTS_BY_TYPE_STATUS = "aid_requests_by_type_status"
AID_REQUESTED = "aid_requested"
AID_REQUESTED_BY_TYPE = "aid_requested_by_type"
AID_GRANTED = "aid_granted"
AID_GRANTED_BY_TYPE = "aid_granted_by_type"
AID_PAID = "aid_paid"
AID_PAID_BY_TYPE = "aid_paid_by_type"

INDICATORS = [
    ACTIVE_FILES,
    NEW_FILES,
    INTERVIEWS,
    INTERVIEWS_BY_TYPE,
    INTERVIEWS_BY_TYPE_MEDIUM,
    AID_REQUESTS,
    AID_REQUESTS_BY_TYPE,
    AID_REQUESTS_BY_STATUS,
    AID_REQUESTS_BY_TYPE_STATUS,
    AID_REQUESTED,
    AID_REQUESTED_BY_TYPE,
    AID_GRANTED,
    AID_GRANTED_BY_TYPE,
    AID_PAID,
    AID_PAID_BY_TYPE,
]
# The amount families: {family: the key of ``structure_aggregates``' "amounts_by_type"}. Their
# rows carry an amount beside the count of aid requests that adds it up.
AMOUNT_FAMILIES = {AID_REQUESTED: "requested", AID_GRANTED: "granted", AID_PAID: "paid"}


def _first(dimension: str) -> str:
    return dimension.split("/")[0]


def _second(dimension: str) -> str:
    return dimension.split("/")[-1]


# Row relations inside one structure or the country: (breakdown, its total, the total's
# dimension for a breakdown's dimension).
ROW_RELATIONS: list[tuple[str, str, Callable[[str], str]]] = [
    (AID_REQUESTS_BY_TYPE, AID_REQUESTS, lambda dimension: ""),
    (AID_REQUESTS_BY_STATUS, AID_REQUESTS, lambda dimension: ""),
    (AID_REQUESTS_BY_TYPE_STATUS, AID_REQUESTS_BY_TYPE, _first),
    (AID_REQUESTS_BY_TYPE_STATUS, AID_REQUESTS_BY_STATUS, _second),
    (INTERVIEWS_BY_TYPE_MEDIUM, INTERVIEWS_BY_TYPE, _first),
    (AID_REQUESTED_BY_TYPE, AID_REQUESTED, lambda dimension: ""),
    (AID_GRANTED_BY_TYPE, AID_GRANTED, lambda dimension: ""),
    (AID_PAID_BY_TYPE, AID_PAID, lambda dimension: ""),
]
# A category is a code, never free text (a custom follow-up type's name could name someone).
_CODE = re.compile(r"^[a-z0-9_]{1,80}$")
OTHER = "autre"

SKIPPED_STATUSES = {Structure.Status.PROVISIONING, Structure.Status.SUSPENDED}


def threshold() -> int:
    return settings.NATIONAL_STATISTICS_THRESHOLD


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def months_between(period_start: date, period_end: date) -> list[date]:
    """Return the first day of every month from ``period_start``'s to ``period_end``'s."""
    months = []
    month = month_start(period_start)
    while month <= period_end:
        months.append(month)
        month = add_months(month, 1)
    return months


# --- Reading the aggregates -----------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    month: date
    indicator: str
    dimension: str
    count: int
    # Only in the amount families: the sum over the ``count`` aid requests.
    amount: Decimal | None = None


def _aggregates_function() -> Callable[[date, date], dict[str, Any]]:
    return import_string(settings.STRUCTURE_AGGREGATES_FUNCTION)


def _as_month(value: Any) -> date:
    if isinstance(value, date):
        return month_start(value)
    year, month = str(value)[:7].split("-")
    return date(int(year), int(month), 1)


def _code(value: Any) -> str:
    text = str(value or "")
    return text if _CODE.match(text) else OTHER


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def figures_from_aggregates(data: dict[str, Any]) -> list[Figure]:
    """Turn what ``structure_aggregates`` returns into snapshot figures (zeros left out)."""
    counts: dict[tuple[date, str, str], int] = defaultdict(int)
    amounts: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    for key, entry in data.get("months", {}).items():
        month = _as_month(key)
        counts[(month, ACTIVE_FILES, "")] += int(entry.get("active_files") or 0)
        counts[(month, NEW_FILES, "")] += int(entry.get("new_files") or 0)
        interviews = entry.get("interviews") or {}
        counts[(month, INTERVIEWS, "")] += int(interviews.get("total") or 0)
        for type_key, by_medium in (interviews.get("by_type") or {}).items():
            code = _code(type_key)
            for medium, n in by_medium.items():
                counts[(month, INTERVIEWS_BY_TYPE_MEDIUM, f"{code}/{_code(medium)}")] += n
                counts[(month, INTERVIEWS_BY_TYPE, code)] += n
        requests = entry.get("help_requests") or {}
        counts[(month, AID_REQUESTS, "")] += int(requests.get("total") or 0)
        for type_key, by_status in (requests.get("by_type") or {}).items():
            code = _code(type_key)
            for status, n in by_status.items():
                status = _code(status)
                counts[(month, AID_REQUESTS_BY_TYPE_STATUS, f"{code}/{status}")] += n
                counts[(month, AID_REQUESTS_BY_TYPE, code)] += n
                counts[(month, AID_REQUESTS_BY_STATUS, status)] += n
        # The totals are added up from the types, so that they equal the sum of their parts.
        for type_key, by_kind in (entry.get("amounts_by_type") or {}).items():
            code = _code(type_key)
            for family, kind in AMOUNT_FAMILIES.items():
                figure = by_kind.get(kind) or {}
                n = int(figure.get("count") or 0)
                if not n:
                    continue
                amount = _amount(figure.get("amount"))
                for indicator, dimension in ((f"{family}_by_type", code), (family, "")):
                    counts[(month, indicator, dimension)] += n
                    amounts[(month, indicator, dimension)] += amount

    figures = []
    for (month, indicator, dimension), count in sorted(counts.items()):
        if not count:
            continue
        amount = amounts.get((month, indicator, dimension))
        figures.append(Figure(month, indicator, dimension, count, amount))
    return figures


# --- Refresh ---------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    period_start: date
    period_end: date
    refreshed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    rows: int = 0
    seconds: float = 0.0


def refresh_structure(structure: Structure, period_start: date, period_end: date) -> int:
    """Replace ``structure``'s snapshot rows of the period; return how many rows it has."""
    # The aggregates take days, both included: the period ends on its last month's last day.
    with tenant_context(structure):
        data = _aggregates_function()(period_start, month_end(period_end))
    figures = figures_from_aggregates(data)
    now = timezone.now()
    with transaction.atomic():
        # Lock the structure's row: two refreshes of one structure run one after the other.
        Structure.objects.select_for_update().filter(pk=structure.pk).first()
        StatisticsSnapshot.objects.filter(
            structure=structure, month__gte=period_start, month__lte=period_end
        ).delete()
        StatisticsSnapshot.objects.bulk_create(
            StatisticsSnapshot(
                structure=structure,
                month=figure.month,
                indicator=figure.indicator,
                dimension=figure.dimension,
                count=figure.count,
                amount=figure.amount,
                suppressed=True,
                refreshed_at=now,
            )
            for figure in figures
            if period_start <= figure.month <= period_end
        )
    return len(figures)


def refresh(
    period_start: date,
    period_end: date,
    slugs: Iterable[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> RefreshReport:
    """Refresh the snapshot of every structure (or of ``slugs``), then publish the period."""
    started = time.monotonic()
    period_start, period_end = month_start(period_start), month_start(period_end)
    report = RefreshReport(period_start, period_end)
    structures = Structure.objects.exclude(schema_name="public").order_by("slug")
    if slugs:
        structures = structures.filter(slug__in=list(slugs))

    def say(message: str) -> None:
        logger.info(message)
        if log is not None:
            log(message)

    for structure in structures:
        if structure.status in SKIPPED_STATUSES:
            reason = structure.get_status_display().lower()
            report.skipped.append((structure.slug, reason))
            logger.warning("Statistics of %s skipped: %s", structure.slug, reason)
            if log is not None:
                log(f"{structure.slug}: ignorée ({reason})")
            continue
        try:
            rows = refresh_structure(structure, period_start, period_end)
        except Exception as error:  # one broken structure must not stop the others
            logger.exception("Statistics of %s failed", structure.slug)
            report.failed.append((structure.slug, repr(error)))
            if log is not None:
                log(f"{structure.slug}: échec ({error!r})")
            continue
        report.refreshed.append(structure.slug)
        report.rows += rows
        say(f"{structure.slug}: {rows} chiffres")
    publish(period_start, period_end)
    report.seconds = time.monotonic() - started
    say(
        f"{len(report.refreshed)} structure(s) mise(s) à jour, {len(report.skipped)} ignorée(s), "
        f"{len(report.failed)} en échec, en {report.seconds:.1f} s"
    )
    return report


# --- Publication and statistical secret ------------------------------------------------------

# A figure of one month: (indicator, structure id or None for the country, dimension).
Key = tuple[str, int | None, str]


def relations(values: Iterable[Key]) -> list[tuple[list[Key], Key]]:
    """Return the month's linear relations as (members, total); the total is a member."""
    groups: dict[tuple[Any, ...], list[Key]] = defaultdict(list)
    totals: dict[tuple[Any, ...], Key] = {}
    for key in values:
        indicator, structure, dimension = key
        if structure is not None:
            group = ("column", indicator, dimension)
            groups[group].append(key)
            totals[group] = (indicator, None, dimension)
        for number, (breakdown, total_indicator, total_dimension) in enumerate(ROW_RELATIONS):
            if indicator == breakdown:
                total = (total_indicator, structure, total_dimension(dimension))
                group = ("row", number, structure, total[2])
                groups[group].append(key)
                totals[group] = total
    return [
        (sorted(members, key=_order) + [totals[group]], totals[group])
        for group, members in groups.items()
    ]


def _order(key: Key) -> tuple[str, int, str]:
    indicator, structure, dimension = key
    return (indicator, -1 if structure is None else structure, dimension)


def suppress(values: dict[Key, int], limit: int) -> set[Key]:
    """Return the figures to hide among ``values`` (true counts, totals included)."""
    hidden = {key for key, count in values.items() if 0 < count < limit}
    groups = relations(values)
    member_of: dict[Key, list[int]] = defaultdict(list)
    hidden_count = []
    for index, (members, _) in enumerate(groups):
        for key in members:
            member_of[key].append(index)
        hidden_count.append(sum(1 for key in members if key in hidden))
    # Only a relation whose hidden count is 1 needs work; hiding a figure updates its relations.
    pending = [index for index, count in enumerate(hidden_count) if count == 1]
    while pending:
        index = pending.pop()
        if hidden_count[index] != 1:
            continue
        members, total = groups[index]
        candidates = [
            key for key in members if key not in hidden and key != total and values.get(key, 0) > 0
        ]
        if candidates:
            chosen = min(candidates, key=lambda key: (values[key], _order(key)))
        elif total not in hidden:
            chosen = total
        else:
            continue
        hidden.add(chosen)
        for other in member_of[chosen]:
            hidden_count[other] += 1
            if hidden_count[other] == 1:
                pending.append(other)
    return hidden


def publish(period_start: date, period_end: date) -> None:
    """Recompute the national totals and the suppression of every figure of the period."""
    limit = threshold()
    with transaction.atomic():
        rows = list(
            StatisticsSnapshot.objects.select_for_update()
            .filter(month__gte=period_start, month__lte=period_end, structure__isnull=False)
            .values_list("id", "month", "indicator", "structure_id", "dimension", "count", "amount")
        )
        StatisticsSnapshot.objects.filter(
            month__gte=period_start, month__lte=period_end, structure__isnull=True
        ).delete()
        by_month: dict[date, dict[Key, int]] = defaultdict(dict)
        ids: dict[tuple[date, Key], int] = {}
        national: dict[tuple[date, str, str], tuple[int, Decimal | None]] = {}
        for row_id, month, indicator, structure_id, dimension, count, amount in rows:
            by_month[month][(indicator, structure_id, dimension)] = count
            ids[(month, (indicator, structure_id, dimension))] = row_id
            total_count, total_amount = national.get((month, indicator, dimension), (0, None))
            if amount is not None:
                total_amount = (total_amount or Decimal("0.00")) + amount
            national[(month, indicator, dimension)] = (total_count + count, total_amount)
        for (month, indicator, dimension), (count, _) in national.items():
            by_month[month][(indicator, None, dimension)] = count

        now = timezone.now()
        hidden_ids: list[int] = []
        national_rows = []
        for month, values in by_month.items():
            hidden = suppress(values, limit)
            for key in values:
                indicator, structure_id, dimension = key
                if structure_id is not None:
                    if key in hidden:
                        hidden_ids.append(ids[(month, key)])
                    continue
                count, amount = national[(month, indicator, dimension)]
                national_rows.append(
                    StatisticsSnapshot(
                        structure=None,
                        month=month,
                        indicator=indicator,
                        dimension=dimension,
                        count=count,
                        amount=amount,
                        suppressed=key in hidden,
                        refreshed_at=now,
                    )
                )
        StatisticsSnapshot.objects.filter(
            month__gte=period_start, month__lte=period_end, structure__isnull=False
        ).exclude(id__in=hidden_ids).update(suppressed=False)
        StatisticsSnapshot.objects.filter(id__in=hidden_ids).update(suppressed=True)
        StatisticsSnapshot.objects.bulk_create(national_rows, batch_size=2000)
        # A refresh replaces many rows at once: fresh statistics keep the API's plans right
        # (with a stale estimate of a few rows, PostgreSQL's aggregation spilled to disk).
        with connection.cursor() as cursor:
            cursor.execute(f'ANALYZE "{StatisticsSnapshot._meta.db_table}"')


# --- Reading what is published ---------------------------------------------------------------

# A month series: one value a month of the period, ``None`` where the figure is suppressed.
Series = list[Any]


def _amount_series(size: int) -> dict[str, Series]:
    return {"count": [0] * size, "amount": ["0.00"] * size}


def _empty_figures(size: int) -> dict[str, Any]:
    figures: dict[str, Any] = {
        ACTIVE_FILES: [0] * size,
        NEW_FILES: [0] * size,
        INTERVIEWS: {"total": [0] * size, "by_type": {}, "by_type_medium": {}},
        AID_REQUESTS: {"total": [0] * size, "by_type": {}, "by_status": {}, "by_type_status": {}},
    }
    for family in AMOUNT_FAMILIES:
        figures[family] = {"total": _amount_series(size), "by_type": {}}
    return figures


def _place(
    figures: dict[str, Any], indicator: str, dimension: str, counts: Series, amounts: Series
) -> None:
    """Put the series of one indicator and category into ``figures`` (see ``published``)."""
    family, _, breakdown = indicator.partition("_by_")
    if indicator in (ACTIVE_FILES, NEW_FILES):
        figures[indicator] = counts
    elif indicator in (INTERVIEWS, AID_REQUESTS):
        figures[indicator]["total"] = counts
    elif indicator in AMOUNT_FAMILIES:
        figures[indicator]["total"] = {"count": counts, "amount": amounts}
    elif family in AMOUNT_FAMILIES:
        figures[family]["by_type"][dimension] = {"count": counts, "amount": amounts}
    elif "/" in dimension:
        outer, inner = dimension.split("/", 1)
        figures[family][f"by_{breakdown}"].setdefault(outer, {})[inner] = counts
    else:
        figures[family][f"by_{breakdown}"][dimension] = counts


@dataclass
class Published:
    """The published figures of one structure (or of the country) over a period."""

    figures: dict[str, Any]
    # When the newest of these figures was computed; None when the period has none stored.
    refreshed_at: datetime | None = None


def published(
    period_start: date, period_end: date, structure_ids: Iterable[int | None]
) -> dict[int | None, Published]:
    """Return, for each structure id (``None``: the country), its published figures.

    Each figure is a series with one value per month of ``months_between(period_start,
    period_end)``: a count, an amount in euros as a string with two decimals, or ``None`` where
    the statistical secret hides it. A category with no figure in the period is left out of its
    breakdown, and a missing month of a series is zero. Only published values leave this
    function. The shape, with ``T`` a follow-up type code, ``M`` a medium and ``S`` a status::

        {"active_files": [..], "new_files": [..],
         "interviews": {"total": [..], "by_type": {T: [..]}, "by_type_medium": {T: {M: [..]}}},
         "aid_requests": {"total": [..], "by_type": {T: [..]}, "by_status": {S: [..]},
                          "by_type_status": {T: {S: [..]}}},
         "aid_requested": {"total": {"count": [..], "amount": [..]},
                           "by_type": {T: {"count": [..], "amount": [..]}}},
         "aid_granted": {...}, "aid_paid": {...}}
    """
    wanted = list(structure_ids)
    months = months_between(period_start, period_end)
    size = len(months)
    positions = {month: index for index, month in enumerate(months)}
    result = {structure_id: Published(_empty_figures(size)) for structure_id in wanted}
    if not months:
        return result

    queryset = StatisticsSnapshot.objects.filter(month__gte=months[0], month__lte=months[-1])
    concrete = [item for item in wanted if item is not None]
    if None in wanted and concrete:
        queryset = queryset.filter(Q(structure__isnull=True) | Q(structure_id__in=concrete))
    elif None in wanted:
        queryset = queryset.filter(structure__isnull=True)
    else:
        queryset = queryset.filter(structure_id__in=concrete)
    # One row per series, its months gathered by the database: a page of structures is a few
    # thousand rows rather than one per figure. Suppressed values leave the database as NULL.
    # The arrays' order does not matter (each value goes to its month's position), and the
    # series are sorted here, so that the database need not sort them.
    hidden = Q(suppressed=True)
    series = (
        queryset.order_by()
        .values("structure_id", "indicator", "dimension")
        .annotate(
            months=ArrayAgg("month"),
            counts=ArrayAgg(Case(When(hidden, then=None), default=F("count"))),
            amounts=ArrayAgg(
                Case(When(hidden, then=None), default=Coalesce("amount", Decimal("0.00")))
            ),
            refreshed_at=Max("refreshed_at"),
        )
        .values_list(
            "structure_id", "indicator", "dimension", "months", "counts", "amounts",
            "refreshed_at",
        )
    )  # fmt: skip
    for structure_id, indicator, dimension, dates, counts, amounts, refreshed_at in sorted(
        series, key=lambda row: (row[1], row[2])
    ):
        count_series: Series = [0] * size
        amount_series: Series = ["0.00"] * size
        for month, count, amount in zip(dates, counts, amounts, strict=True):
            index = positions[month]
            count_series[index] = count
            amount_series[index] = None if amount is None else str(amount)
        target = result[structure_id]
        _place(target.figures, indicator, dimension, count_series, amount_series)
        if target.refreshed_at is None or refreshed_at > target.refreshed_at:
            target.refreshed_at = refreshed_at
    return result
