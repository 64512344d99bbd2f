"""The "Statistiques" page and the yearly activity report.

The page runs a fixed number of SQL queries, whatever the number of files and items (see
tests/core/test_statistics.py).
"""

from datetime import date, timedelta
from io import BytesIO

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from core import reports, statistics
from core.forms.beneficiaries import DateInput
from core.models import FollowupType
from core.roles import Action, can
from core.views.decorators import agent_required

NAV = "statistics"
# Maximum period the page accepts, because its monthly table has one row per month.
MAX_PERIOD = timedelta(days=366 * 10)
REPORT_YEARS = 10


class StatisticsFilterForm(DsfrBaseForm):
    du = forms.DateField(label="Du", required=False, widget=DateInput())
    au = forms.DateField(label="Au", required=False, widget=DateInput())
    accompagnement = forms.ModelChoiceField(
        label="Accompagnement",
        required=False,
        queryset=FollowupType.objects.order_by("name"),
        empty_label="Tous",
    )

    def clean(self) -> dict[str, object]:
        values = super().clean() or {}
        start, end = values.get("du"), values.get("au")
        if start and end:
            if start > end:
                self.add_error("au", "Choisissez une date de fin postérieure à la date de début.")
            elif end - start > MAX_PERIOD:
                self.add_error("au", "Choisissez une période de dix ans au plus.")
        return values

    def filters(self, today: date) -> statistics.Filters:
        """Return the filters entered when they are valid, the current year otherwise."""
        default_start, default_end = statistics.default_period(today)
        if not self.is_valid():
            return statistics.Filters(default_start, default_end)
        values = self.cleaned_data
        start = values.get("du") or default_start
        end = values.get("au") or max(default_end, start)
        if start > end or end - start > MAX_PERIOD:
            start, end = default_start, default_end
        return statistics.Filters(start, end, values.get("accompagnement"))


def _report_years(today: date) -> list[int]:
    return list(range(today.year, today.year - REPORT_YEARS, -1))


class ReportForm(forms.Form):
    annee = forms.TypedChoiceField(coerce=int)
    format = forms.ChoiceField(choices=[(reports.PDF, "PDF"), (reports.XLSX, "XLSX")])

    def __init__(self, *args, today: date, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["annee"].choices = [(year, str(year)) for year in _report_years(today)]


@agent_required(Action.VIEW_STATISTICS)
def statistics_page(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = StatisticsFilterForm(request.GET or None)
    filters = form.filters(today)
    stats = statistics.compute(filters)
    context = {
        "form": form,
        "stats": stats,
        "filters": filters,
        "can_export": can(request.user, Action.EXPORT_STATISTICS),
        "report_years": _report_years(today),
        # The last full year, whose report is the one usually requested.
        "default_report_year": today.year - 1,
        "nav": NAV,
    }
    return render(request, "core/statistics/page.html", context)


@agent_required(Action.EXPORT_STATISTICS)
def activity_report(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    form = ReportForm(request.GET, today=today)
    if not form.is_valid():
        messages.error(request, "Choisissez une année et un format pour le rapport d'activité.")
        return redirect("core:statistics")
    report = reports.activity_report(
        request.user, form.cleaned_data["annee"], form.cleaned_data["format"], today
    )
    response = FileResponse(
        BytesIO(report.content),
        as_attachment=True,
        filename=report.filename,
        content_type=report.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response
