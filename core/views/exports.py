"""The export pages of the beneficiary list and of the Accompagnements lists.

Each page keeps the list's filters in its query string, shows how many rows the file will
contain, and offers the format (and, for beneficiaries and roles allowed to read it, whether
to include the social security number). The file is the response to the form's POST, sent after
an audit row is written: exports carry personal data out of the service, so each one is
recorded, and a link or a prefetching browser cannot start one.

The audit row (``core.services.audit.record``) needs a target instance; an export concerns many
files and none in particular, so its target is the agent who exported, and its ``changes``
hold the details: ``{"kind", "format", "filters", "nir_included", "rows"}``. Its
``beneficiary_id`` is empty, so it shows in no file's history.
"""

import tempfile
from collections.abc import Callable, Iterator
from datetime import date

from django import forms
from django.db import connection
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from core.accompaniment_lists import AccompanimentFilterForm
from core.exports import (
    FORMATS,
    Export,
    applied_filters,
    beneficiary_export,
    csv_lines,
    followup_export,
    help_request_export,
    write_xlsx,
)
from core.roles import Action, can
from core.search import BeneficiaryFilterForm
from core.services import audit
from core.views.decorators import agent_required

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportForm(DsfrBaseForm):
    format = forms.ChoiceField(
        label="Format du fichier",
        choices=[
            ("csv", "CSV (séparateur point-virgule, pour tout tableur)"),
            ("xlsx", "Excel (XLSX)"),
        ],
        initial="xlsx",
        widget=forms.RadioSelect,
    )
    nir = forms.BooleanField(
        label="Inclure le numéro de sécurité sociale",
        help_text=(
            "N'incluez ce numéro que si le fichier en a besoin : l'export et ce choix sont "
            "inscrits dans l'historique de la structure."
        ),
        required=False,
    )

    def __init__(self, *args, offer_nir: bool, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        if not offer_nir:
            del self.fields["nir"]


@agent_required(Action.EXPORT_BENEFICIARIES)
def beneficiary_export_page(request: HttpRequest) -> HttpResponse:
    filters = BeneficiaryFilterForm(request.GET)
    return _export_page(
        request,
        filters,
        lambda include_nir: beneficiary_export(request.user, filters, include_nir),
        offer_nir=can(request.user, Action.VIEW_NIR),
        title="Exporter les bénéficiaires",
        back_url=reverse("core:beneficiary_list"),
        unit=("bénéficiaire", "bénéficiaires"),
    )


@agent_required(Action.EXPORT_ACCOMPANIMENTS)
def followup_export_page(request: HttpRequest) -> HttpResponse:
    filters = AccompanimentFilterForm(request.GET, help_requests=False)
    return _export_page(
        request,
        filters,
        lambda include_nir: followup_export(request.user, filters),
        offer_nir=False,
        title="Exporter les entretiens",
        back_url=reverse("core:accompaniment_list"),
        unit=("entretien", "entretiens"),
    )


@agent_required(Action.EXPORT_ACCOMPANIMENTS)
def help_request_export_page(request: HttpRequest) -> HttpResponse:
    filters = AccompanimentFilterForm(request.GET, help_requests=True)
    return _export_page(
        request,
        filters,
        lambda include_nir: help_request_export(request.user, filters),
        offer_nir=False,
        title="Exporter les demandes d'aide",
        back_url=reverse("core:accompaniment_list") + "?onglet=demandes-d-aide",
        unit=("demande d'aide", "demandes d'aide"),
    )


def _export_page(
    request: HttpRequest,
    filters: forms.Form,
    build: Callable[[bool], Export],
    *,
    offer_nir: bool,
    title: str,
    back_url: str,
    unit: tuple[str, str],
) -> HttpResponse:
    form = ExportForm(request.POST or None, offer_nir=offer_nir)
    if request.method == "POST":
        # The option is not offered to roles that may not read the number, so a request for it
        # gets 404 like any other forbidden action.
        if request.POST.get("nir") and not offer_nir:
            raise Http404("Page introuvable.")
        if form.is_valid():
            return _send(request, build(form.cleaned_data.get("nir", False)), filters, form)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("onglet", None)
    count = build(False).rows.count()
    context = {
        "form": form,
        "title": title,
        "count": count,
        "unit": unit[0] if count == 1 else unit[1],
        "filters": _summary(filters),
        "back_url": _with_query(back_url, query.urlencode()),
        "nav": "beneficiaries" if "beneficiaires" in back_url else "accompaniments",
    }
    return render(request, "core/exports/form.html", context)


def _summary(filters: forms.Form) -> list[tuple[str, str]]:
    """Return the filters in use as (label, value) pairs for people to read."""
    if not filters.is_valid():
        return []
    pairs = []
    for name, value in filters.cleaned_data.items():
        field = filters.fields[name]
        if not value or name in ("tri", "ordre"):
            continue
        if isinstance(value, date):
            text = f"{value:%d/%m/%Y}"
        elif isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
            text = str(dict(field.choices).get(value, value))
        else:
            text = str(value)
        pairs.append((str(field.label or name), text))
    return pairs


def _with_query(url: str, query: str) -> str:
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _send(
    request: HttpRequest, export: Export, filters: forms.Form, form: ExportForm
) -> HttpResponse:
    file_format = form.cleaned_data["format"]
    agent = request.user
    name = f"{export.kind}-{request.tenant.slug}-{timezone.localdate():%Y-%m-%d}.{file_format}"
    if file_format == "xlsx":
        output = tempfile.TemporaryFile()  # FileResponse closes it
        count = write_xlsx(export, output)
        _record(agent, export, file_format, filters, count)
        output.seek(0)
        return FileResponse(
            output, as_attachment=True, filename=name, content_type=XLSX_CONTENT_TYPE
        )
    # The rows are counted before they leave, so the trail records every started download.
    # NOTE: a file changed between this count and the streaming can make them differ by a few.
    _record(agent, export, file_format, filters, export.rows.count())
    response = StreamingHttpResponse(
        _in_schema(request.tenant, csv_lines(export)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _in_schema(tenant: object, lines: Iterator[str]) -> Iterator[str]:
    """Read the rows in the structure's schema, whatever ran on the connection since the view
    returned."""
    connection.set_tenant(tenant)
    yield from lines


def _record(
    agent: object, export: Export, file_format: str, filters: forms.Form, rows: int
) -> None:
    audit.record(
        agent,
        export.audit_action,
        agent,  # type: ignore[arg-type]
        {
            "kind": export.kind,
            "format": FORMATS[file_format],
            "filters": applied_filters(filters),
            "nir_included": export.include_nir,
            "rows": rows,
        },
    )
