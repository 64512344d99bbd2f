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
    try:
        year, month = (value or "").split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _label(month: str) -> str:
    year, number = month.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def _value(cell: dict[str, Any]) -> Any:
    return None if cell["suppressed"] else cell["value"]


def _chart(labels: list[str], series: dict[str, list[Any]]) -> dict[str, str]:
    return {
        "x": json.dumps([labels] * len(series), ensure_ascii=False),
        "y": json.dumps(
            [[float(v) if v is not None else None for v in s] for s in series.values()]
        ),
        "name": json.dumps(list(series), ensure_ascii=False),
    }


def _breakdown(cells: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return sorted(cells.items(), key=lambda item: item[0])


@national_required
def statistics(request: HttpRequest) -> HttpResponse:
    end = _parse_month(request.GET.get("fin")) or stats.month_start(timezone.localdate())
    start = _parse_month(request.GET.get("debut")) or stats.add_months(end, -11)
    if start > end or stats.add_months(start, 60) <= end:
        start = stats.add_months(end, -11)
    structures = list(Structure.objects.exclude(schema_name="public").order_by("name"))
    chosen = next((s for s in structures if s.slug == request.GET.get("structure")), None)
    key = chosen.pk if chosen else None

    months = stats.published(start, end, [key])[key]
    labels = [_label(entry["month"]) for entry in months]
    detail_month = request.GET.get("mois") or months[-1]["month"]
    detail = next((entry for entry in months if entry["month"] == detail_month), months[-1])

    activity = {
        "Dossiers actifs": [_value(entry["active_files"]) for entry in months],
        "Nouveaux dossiers": [_value(entry["new_files"]) for entry in months],
        "Entretiens": [_value(entry["interviews"]["total"]) for entry in months],
        "Demandes d'aide": [_value(entry["aid_requests"]["total"]) for entry in months],
    }
    amounts = {
        "Montant demandé": [_value(e["aid_requests"]["requested_amount"]) for e in months],
        "Montant accordé": [_value(e["aid_requests"]["granted_amount"]) for e in months],
        "Montant payé": [_value(e["aid_requests"]["paid_amount"]) for e in months],
    }
    charts_available = bool(finders.find(CHART_SCRIPT))

    context = {
        "nav": "national_statistics",
        "structures": structures,
        "chosen": chosen,
        "start": f"{start:%Y-%m}",
        "end": f"{end:%Y-%m}",
        "months": months,
        "rows": [
            {"label": label, "entry": entry} for label, entry in zip(labels, months, strict=True)
        ],
        "detail": detail,
        "detail_label": _label(detail["month"]),
        "interviews_by_type": _breakdown(detail["interviews"]["by_type"]),
        "requests_by_type": _breakdown(detail["aid_requests"]["by_type"]),
        "requests_by_status": _breakdown(detail["aid_requests"]["by_status"]),
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
