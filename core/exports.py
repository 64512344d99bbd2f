"""Exports of the beneficiary list and of the "Accompagnements" lists, as CSV or XLSX files.

An export contains the rows the matching list shows with the same filters, sorted the same way
and then by primary key, so two exports of the same data come out in the same order. Headers
are the fields' French verbose names and values their French labels.

What an agent may read decides the columns and the cells:

- beneficiaries need ``EXPORT_BENEFICIARIES``; the health, income and protection sections
  need ``VIEW_FULL_INFO``; the social security number (NIR) needs ``VIEW_NIR`` and an explicit
  request (``include_nir``);
- interviews and aid requests need ``EXPORT_ACCOMPANIMENTS`` and are limited to the items the
  Accompagnements list shows the agent (``LIST_FOLLOWUPS``, ``LIST_HELP_REQUESTS``);
- an interview's details need ``VIEW_FOLLOWUP`` (or its author), and the protected columns of
  an aid request (instruction, amounts, commission, decision, payment) need
  ``VIEW_HELP_REQUEST_PROTECTED``;
- a shared synthesis ("compte rendu") is written only where the agent may read it
  (``VIEW_FOLLOWUP_SYNTHESIS``, ``VIEW_HELP_REQUEST_SYNTHESIS``, or its author); the private
  synthesis is never exported.

A column is present when the role may read it on some rows; a cell the agent may not read on
its row stays empty.

Rows are read with ``QuerySet.iterator(chunk_size=CHUNK_SIZE)``: the query count is fixed up
to CHUNK_SIZE rows, and grows by the same fixed number for each further chunk.
"""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, Any

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from core.access import allows, beneficiaries_for, scoped_items
from core.accompaniment_lists import AccompanimentFilterForm
from core.forms.beneficiaries import FULL_FIELDS, GENERAL_FIELDS
from core.models import Agent, Beneficiary, Followup, HelpRequest
from core.nir import format_nir
from core.roles import Action, Scope, can, scope
from core.search import BeneficiaryFilterForm

CHUNK_SIZE = 2000
CSV_DELIMITER = ";"
DATE_FORMAT = "%d/%m/%Y"
XLSX_DATE_FORMAT = "DD/MM/YYYY"
XLSX_EURO_FORMAT = '#,##0.00 "€"'
# A spreadsheet reads a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

FORMATS = {"csv": "CSV", "xlsx": "XLSX"}

# Aid-request fields shown only to roles with VIEW_HELP_REQUEST_PROTECTED, as in the file's
# "Historique" tab and the Accompagnements list.
HELP_REQUEST_PROTECTED_FIELDS = [
    "instructor_organisation",
    "dispatch_date",
    "requested_amount",
    "committee",
    "committee_date",
    "decision_date",
    "allocated_amount",
    "refusal_reason",
    "payment_method",
    "payment_date",
    "end_of_support_date",
]

Value = str | int | Decimal | date | None


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Value]


@dataclass
class Export:
    """One export: its kind, columns and rows, and what its audit row records."""

    kind: str  # the file name's prefix: "beneficiaires", "entretiens", "demandes-d-aide"
    sheet_title: str
    audit_action: str
    columns: list[Column]
    rows: QuerySet  # type: ignore[type-arg]
    # Called on each row before its values are read (caches what permission checks need).
    prepare: Callable[[Any], None] = field(default=lambda row: None)
    include_nir: bool = False

    def records(self) -> Iterator[list[Value]]:
        for row in self.rows.iterator(chunk_size=CHUNK_SIZE):
            self.prepare(row)
            yield [column.value(row) for column in self.columns]

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]


# Columns.


def _display(value: Any) -> Value:
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if value is None or isinstance(value, str | int | Decimal | date):
        return value
    return str(value)


def _header(model: type[models.Model], name: str) -> str:
    return capfirst(str(model._meta.get_field(name).verbose_name))


def field_column(model: type[models.Model], name: str, path: str = "") -> Column:
    """Return a column for the model field ``name``, read on ``row.<path>`` when ``path`` is
    given.

    Choices give their label, multiple choices their labels joined with ", ", booleans
    "Oui"/"Non", and foreign keys their text. Amounts stay Decimal and dates stay dates.
    """
    model_field = model._meta.get_field(name)
    header = _header(model, name)

    def owner(row: Any) -> Any:
        return getattr(row, path) if path else row

    if isinstance(model_field, ArrayField):
        labels = {key: str(label) for key, label in model_field.base_field.choices or []}
        return Column(
            header,
            lambda row: ", ".join(labels.get(value, value) for value in getattr(owner(row), name)),
        )
    if model_field.choices:
        return Column(header, lambda row: getattr(owner(row), f"get_{name}_display")())
    if isinstance(model_field, models.BooleanField):
        return Column(header, lambda row: "Oui" if getattr(owner(row), name) else "Non")
    if isinstance(model_field, models.DateTimeField):
        return Column(header, lambda row: timezone.localdate(getattr(owner(row), name)))
    return Column(header, lambda row: _display(getattr(owner(row), name)))


def names_column(model: type[models.Model], relation: str) -> Column:
    """Return a column listing the names in a prefetched many-to-many relation (agents by
    their full name, follow-up types by theirs), joined with ", "."""

    def value(row: Any) -> str:
        return ", ".join(
            getattr(item, "full_name", None) or str(item) for item in getattr(row, relation).all()
        )

    return Column(_header(model, relation), value)


def guarded(column: Column, allowed: Callable[[Any], bool]) -> Column:
    """Return the same column, empty on the rows where ``allowed(row)`` is false."""
    return Column(column.header, lambda row: column.value(row) if allowed(row) else None)


def reaches_file(agent: Agent, action: Action, beneficiary: Beneficiary) -> bool:
    """Return whether ``agent`` may perform ``action`` on this file.

    With the REFERENT scope, the file's referents must be cached in ``beneficiary.referent_ids``.
    """
    reach = scope(agent, action)
    if reach is Scope.ALL:
        return True
    if reach is Scope.REFERENT:
        return agent.pk in beneficiary.referent_ids
    return False


def _cache_referents(beneficiary: Beneficiary) -> None:
    beneficiary.referent_ids = {referent.pk for referent in beneficiary.referents.all()}


def _ordered_uniquely(rows: QuerySet) -> QuerySet:  # type: ignore[type-arg]
    """Return ``rows`` in the list's order, then by primary key, so that the order is total."""
    return rows.order_by(*rows.query.order_by, "pk")


# Beneficiaries.


def beneficiary_columns(agent: Agent, include_nir: bool) -> list[Column]:
    columns = [field_column(Beneficiary, "file_number")]
    columns += [field_column(Beneficiary, name) for name in GENERAL_FIELDS]
    columns.append(names_column(Beneficiary, "referents"))
    columns.append(names_column(Beneficiary, "followup_types"))
    if can(agent, Action.VIEW_FULL_INFO):
        columns += [
            guarded(
                field_column(Beneficiary, name),
                lambda row: reaches_file(agent, Action.VIEW_FULL_INFO, row),
            )
            for name in FULL_FIELDS
            if name != "social_security_number"
        ]
    if include_nir and can(agent, Action.VIEW_NIR):
        columns.append(
            guarded(
                Column(
                    _header(Beneficiary, "social_security_number"),
                    lambda row: (
                        format_nir(row.social_security_number) if row.social_security_number else ""
                    ),
                ),
                lambda row: reaches_file(agent, Action.VIEW_NIR, row),
            )
        )
    columns.append(field_column(Beneficiary, "created_at"))
    return columns


def beneficiary_export(
    agent: Agent, filters: BeneficiaryFilterForm, include_nir: bool = False
) -> Export:
    """Build the export of the beneficiary list as ``filters`` selects it."""
    include_nir = include_nir and can(agent, Action.VIEW_NIR)
    rows = _ordered_uniquely(
        filters.apply(beneficiaries_for(agent, Action.EXPORT_BENEFICIARIES))
    ).prefetch_related(
        Prefetch("referents", queryset=Agent.objects.order_by("last_name", "first_name", "id")),
        "followup_types",
    )
    return Export(
        kind="beneficiaires",
        sheet_title="Bénéficiaires",
        audit_action="export_beneficiaries",
        columns=beneficiary_columns(agent, include_nir),
        rows=rows,
        prepare=_cache_referents,
        include_nir=include_nir,
    )


# Interviews and aid requests.


def _beneficiary_columns() -> list[Column]:
    return [
        field_column(Beneficiary, "file_number", path="beneficiary"),
        Column("Bénéficiaire", lambda row: row.beneficiary.display_name),
    ]


def _synthesis_column(agent: Agent, model: type[models.Model], action: Action) -> Column:
    # The author always reads what they wrote, whatever their role (as in core.timeline).
    return guarded(
        field_column(model, "synthesis"),
        lambda row: row.created_by_id == agent.pk or allows(agent, action, row),
    )


def _items(agent: Agent, model: type[models.Model], list_action: Action) -> QuerySet:  # type: ignore[type-arg]
    items = scoped_items(agent, Action.EXPORT_ACCOMPANIMENTS, model.objects.all())
    # Never more than the Accompagnements list shows the agent.
    return scoped_items(agent, list_action, items)


def _prepare_item(row: Any) -> None:
    _cache_referents(row.beneficiary)


def followup_columns(agent: Agent) -> list[Column]:
    def details(row: Any) -> bool:
        # As in the Accompagnements list, a role that reads only its own interviews gets the
        # date, status and author of the others, without their details.
        return row.created_by_id == agent.pk or allows(agent, Action.VIEW_FOLLOWUP, row)

    def detail(column: Column) -> Column:
        return guarded(column, details)

    return [
        *_beneficiary_columns(),
        field_column(Followup, "date"),
        detail(field_column(Followup, "medium")),
        detail(names_column(Followup, "followup_types")),
        field_column(Followup, "status"),
        detail(field_column(Followup, "third_person_name")),
        detail(field_column(Followup, "place")),
        detail(field_column(Followup, "prescribing_organisation")),
        field_column(Followup, "due_date"),
        detail(field_column(Followup, "redirected")),
        detail(field_column(Followup, "help_request_started")),
        Column(_header(Followup, "created_by"), lambda row: row.created_by.full_name),
        _synthesis_column(agent, Followup, Action.VIEW_FOLLOWUP_SYNTHESIS),
    ]


def followup_export(agent: Agent, filters: AccompanimentFilterForm) -> Export:
    rows = (
        _ordered_uniquely(filters.apply(_items(agent, Followup, Action.LIST_FOLLOWUPS)))
        .select_related("beneficiary", "created_by")
        .prefetch_related(
            "followup_types",
            Prefetch("beneficiary__referents", queryset=Agent.objects.only("id")),
        )
    )
    return Export(
        kind="entretiens",
        sheet_title="Entretiens",
        audit_action="export_followups",
        columns=followup_columns(agent),
        rows=rows,
        prepare=_prepare_item,
    )


def help_request_columns(agent: Agent) -> list[Column]:
    columns = [
        *_beneficiary_columns(),
        field_column(HelpRequest, "opening_date"),
        Column(_header(HelpRequest, "followup_type"), lambda row: row.followup_type.name),
        field_column(HelpRequest, "status"),
        field_column(HelpRequest, "is_complete"),
        field_column(HelpRequest, "is_financial"),
        field_column(HelpRequest, "financial_reason"),
        field_column(HelpRequest, "instruction"),
        field_column(HelpRequest, "prescribing_organisation"),
        field_column(HelpRequest, "due_date"),
    ]
    if can(agent, Action.VIEW_HELP_REQUEST_PROTECTED):
        columns += [
            guarded(
                field_column(HelpRequest, name),
                lambda row: allows(agent, Action.VIEW_HELP_REQUEST_PROTECTED, row),
            )
            for name in HELP_REQUEST_PROTECTED_FIELDS
        ]
    columns += [
        Column(_header(HelpRequest, "created_by"), lambda row: row.created_by.full_name),
        _synthesis_column(agent, HelpRequest, Action.VIEW_HELP_REQUEST_SYNTHESIS),
    ]
    return columns


def help_request_export(agent: Agent, filters: AccompanimentFilterForm) -> Export:
    rows = (
        _ordered_uniquely(filters.apply(_items(agent, HelpRequest, Action.LIST_HELP_REQUESTS)))
        .select_related("beneficiary", "created_by", "followup_type", "committee")
        .prefetch_related(Prefetch("beneficiary__referents", queryset=Agent.objects.only("id")))
    )
    return Export(
        kind="demandes-d-aide",
        sheet_title="Demandes d'aide",
        audit_action="export_help_requests",
        columns=help_request_columns(agent),
        rows=rows,
        prepare=_prepare_item,
    )


# Writers.


def _neutralised(text: str) -> str:
    """Return ``text`` with a leading apostrophe when a spreadsheet would run it as a formula
    (the OWASP advice against CSV injection)."""
    # NOTE: phone numbers typed as "+33 ..." get the apostrophe too, as a spreadsheet would
    # otherwise read them as a formula.
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csv_text(value: Value) -> str:
    """Format a value as French spreadsheets read it: dd/mm/yyyy dates, decimal comma."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return _neutralised(value)


class _Echo:
    """A file-like object whose ``write`` returns the line, for csv.writer in a generator."""

    def write(self, line: str) -> str:
        return line


def csv_lines(export: Export) -> Iterator[str]:
    """Yield the CSV file line by line: a UTF-8 byte order mark (so that spreadsheets read the
    accents), then the headers and one line per row, separated by ";"."""
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    yield "\ufeff" + writer.writerow(export.headers)
    for record in export.records():
        yield writer.writerow([csv_text(value) for value in record])


def _xlsx_cell(sheet: Any, value: Value) -> Any:
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value)
        # openpyxl stores a text starting with "=" as a formula; keep it text.
        cell.data_type = "s"
        return cell
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = XLSX_EURO_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    return value


def write_xlsx(export: Export, output: IO[bytes]) -> int:
    """Write the workbook (write-only mode: rows go to disk, not memory) and return the number
    of rows written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(export.sheet_title)
    bold = Font(bold=True)
    headers = []
    for header in export.headers:
        cell = WriteOnlyCell(sheet, header)
        cell.font = bold
        cell.data_type = "s"
        headers.append(cell)
    sheet.freeze_panes = "A2"
    sheet.append(headers)
    count = 0
    for record in export.records():
        sheet.append([_xlsx_cell(sheet, value) for value in record])
        count += 1
    workbook.save(output)
    return count


def applied_filters(form: Any) -> dict[str, Any]:
    """Return the filters the form's ``apply`` used, as JSON values for the audit trail."""
    if not form.is_valid():
        return {}
    return {name: _json(value) for name, value in form.cleaned_data.items() if value}


def _json(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, date):
        return value.isoformat()
    return value
