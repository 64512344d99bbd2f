"""National console: the national statistics (charts and tables) and the API tokens."""

import json
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from dsfr.forms import DsfrBaseForm

from tenants import national_statistics as stats
from tenants.models import Structure
from tenants.models_statistics import NationalApiToken
from tenants.national_api.views import YEARS
from tenants.views import national_required

CHART_SCRIPT = "vendor/dsfr-chart/BarChart.js"
CHART_STYLE = "vendor/dsfr-chart/BarChart.css"
MONTHS = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin",
    "juil.", "août", "sept.", "oct.", "nov.", "déc.",
]  # fmt: skip


class TokenForm(DsfrBaseForm):
    name = forms.CharField(
        label="Nom du client",
        max_length=150,
        help_text="Par exemple : tableau de bord de la DREES.",
    )


def _parse_month(value: str | None) -> date | None:
    """Return the month of an AAAA-MM value, or None for a missing or invalid one."""
    try:
        year, month = (value or "").split("-")
        if int(year) not in YEARS:
            return None
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _label(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def _cell(value: Any) -> dict[str, Any]:
    """Return a table cell of a series value, ``None`` being a suppressed figure."""
    return {"value": value, "suppressed": value is None}


def _chart(labels: list[str], series: dict[str, list[Any]]) -> dict[str, str]:
    return {
        "x": json.dumps([labels] * len(series), ensure_ascii=False),
        "y": json.dumps(
            [[float(v) if v is not None else None for v in s] for s in series.values()]
        ),
        "name": json.dumps(list(series), ensure_ascii=False),
    }


def _breakdown(series: dict[str, list[Any]], index: int) -> list[tuple[str, dict[str, Any]]]:
    """Return the categories of a breakdown with their cell of month ``index``, zeros left out."""
    return [
        (code, _cell(values[index]))
        for code, values in sorted(series.items())
        if values[index] != 0
    ]


@national_required
def statistics(request: HttpRequest) -> HttpResponse:
    end = _parse_month(request.GET.get("fin")) or stats.month_start(timezone.localdate())
    start = _parse_month(request.GET.get("debut")) or stats.add_months(end, -11)
    if start > end or stats.add_months(start, 60) <= end:
        start = stats.add_months(end, -11)
    structures = list(Structure.objects.exclude(schema_name="public").order_by("name"))
    chosen = next((s for s in structures if s.slug == request.GET.get("structure")), None)
    key = chosen.pk if chosen else None

    figures = stats.published(start, end, [key])[key].figures
    months = [f"{month:%Y-%m}" for month in stats.months_between(start, end)]
    labels = [_label(month) for month in months]
    detail_month = request.GET.get("mois")
    index = months.index(detail_month) if detail_month in months else len(months) - 1

    activity = {
        "Dossiers actifs": figures["active_files"],
        "Nouveaux dossiers": figures["new_files"],
        "Entretiens": figures["interviews"]["total"],
        "Demandes d'aide": figures["aid_requests"]["total"],
    }
    amounts = {
        "Montant demandé": figures["aid_requested"]["total"]["amount"],
        "Montant accordé": figures["aid_granted"]["total"]["amount"],
        "Montant payé": figures["aid_paid"]["total"]["amount"],
    }
    rows = [
        {
            "label": label,
            "month": month,
            "activity": [_cell(series[position]) for series in activity.values()],
            "amounts": [
                _cell(figures[family]["total"][part][position])
                for family in ("aid_requested", "aid_granted", "aid_paid")
                for part in ("count", "amount")
            ],
        }
        for position, (label, month) in enumerate(zip(labels, months, strict=True))
    ]
    charts_available = bool(finders.find(CHART_SCRIPT))

    context = {
        "nav": "national_statistics",
        "structures": structures,
        "chosen": chosen,
        "start": f"{start:%Y-%m}",
        "end": f"{end:%Y-%m}",
        "rows": rows,
        "detail_label": labels[index],
        "interviews_by_type": _breakdown(figures["interviews"]["by_type"], index),
        "requests_by_type": _breakdown(figures["aid_requests"]["by_type"], index),
        "requests_by_status": _breakdown(figures["aid_requests"]["by_status"], index),
        "threshold": stats.threshold(),
        "charts": charts_available,
        "chart_script": CHART_SCRIPT,
        "chart_style": CHART_STYLE,
        "activity_chart": _chart(labels, activity) if charts_available else None,
        "amount_chart": _chart(labels, amounts) if charts_available else None,
    }
    return render(request, "tenants/statistics.html", context)


@national_required
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        token, secret = NationalApiToken.issue(form.cleaned_data["name"], request.user)
        form = TokenForm()
    tokens = NationalApiToken.objects.select_related("created_by")
    response = render(
        request,
        "tenants/statistics_tokens.html",
        {"nav": "national_statistics", "form": form, "tokens": tokens, "secret": secret},
    )
    if secret:
        # The page contains the secret, so no cache may keep it.
        response["Cache-Control"] = "no-store"
    return response


@national_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(NationalApiToken, pk=pk)
    token.revoke()
    messages.success(request, f"Le jeton « {token.name} » est révoqué.")
    return redirect("tenants:statistics_tokens")
