"""The yearly activity report ("Rapport d'activité"): the statistics of a calendar year, as a PDF
(reportlab, with the helpers and the Vera font of ``core.pdf``) or an XLSX workbook (openpyxl,
one sheet per figure, French headers).

Each generation writes an ``export_statistics`` row in the audit trail. The row's target is
the structure itself (``tenants.api.current_structure()``, as for "update_structure"), since a
report is about the whole structure and no single file: its changes hold the year and format.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.db import transaction
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle

from core import statistics
from core.models import Agent
from core.pdf import _build, _letterhead, _styles, euros, french_date, markup
from core.services import audit
from tenants.api import current_structure
from tenants.models import Structure

PDF = "pdf"
XLSX = "xlsx"
CONTENT_TYPES = {
    PDF: "application/pdf",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MONEY_FORMAT = '#,##0.00 "€"'
INVALID_SHEET_CHARACTERS = str.maketrans({char: " " for char in "[]:*?/\\"})


@dataclass(frozen=True)
class Report:
    content: bytes
    filename: str
    content_type: str


def year_statistics(year: int) -> statistics.Statistics:
    """Compute every figure of the calendar year ``year``, all follow-up types together."""
    return statistics.compute(statistics.Filters(date(year, 1, 1), date(year, 12, 31)))


def activity_report(agent: Agent, year: int, kind: str, today: date) -> Report:
    """Build the activity report of ``year`` as ``kind`` (PDF or XLSX) and audit it."""
    if kind not in CONTENT_TYPES:
        raise ValueError(f"Invalid report format {kind!r}: expected {PDF!r} or {XLSX!r}.")
    structure = current_structure()
    stats = year_statistics(year)
    build = report_pdf if kind == PDF else report_xlsx
    content = build(structure, stats, today)
    with transaction.atomic():
        audit.record(agent, "export_statistics", structure, {"year": year, "format": kind})
    return Report(
        content=content,
        filename=f"rapport-activite-{structure.slug}-{year}.{kind}",
        content_type=CONTENT_TYPES[kind],
    )


def _period_text(stats: statistics.Statistics) -> str:
    return f"Du {french_date(stats.filters.start)} au {french_date(stats.filters.end)}"


def _summary(stats: statistics.Statistics) -> list[tuple[str, int]]:
    return [
        ("Personnes accompagnées", stats.people),
        ("Entretiens", stats.interviews),
        ("Demandes d'aide", stats.help_requests),
    ]


NOTES = [
    "Personnes accompagnées : dossiers non archivés ayant au moins un entretien ou une demande "
    "d'aide sur la période. Âge atteint au dernier jour de la période.",
    "Entretiens comptés à leur date, demandes d'aide à leur date d'ouverture. Un entretien "
    "portant sur plusieurs accompagnements compte pour chacun d'eux dans le tableau par "
    "accompagnement.",
    "Montant demandé : demandes ouvertes sur la période. Montant attribué : demandes acceptées, "
    "à la date de la décision. Montant payé : à la date du paiement.",
]


def _cell_text(value: Any, money: bool) -> str:
    if money and isinstance(value, Decimal):
        return euros(value)
    return str(value)


def report_pdf(structure: Structure, stats: statistics.Statistics, today: date) -> bytes:
    styles = _styles()
    year = stats.filters.start.year
    title = f"Rapport d'activité {year}"
    story: list = _letterhead(structure, styles)  # type: ignore[type-arg]
    story += [
        Spacer(1, 8 * mm),
        Paragraph(markup(title), styles.title),
        Paragraph(markup(f"{_period_text(stats)}. Édité le {french_date(today)}."), styles.body),
    ]
    story.append(
        _pdf_table(
            ["Indicateur", "Nombre"], [[label, n] for label, n in _summary(stats)], None, False
        )
    )
    story.append(Spacer(1, 3 * mm))
    story += [Paragraph(markup(note), styles.small) for note in NOTES]
    for section in stats.sections:
        story.append(CondPageBreak(40 * mm))
        story.append(Spacer(1, 6 * mm))
        story.append(Paragraph(markup(section.title), styles.title))
        for table in section.tables:
            block = [Paragraph(markup(table.title), styles.bold)]
            if table.rows:
                block.append(_pdf_table(table.columns, table.rows, table.total, table.money))
            else:
                block.append(Paragraph(markup("Aucune donnée sur la période."), styles.body))
            block.append(Spacer(1, 5 * mm))
            # A short table stays on one page with its title. A long one may span pages.
            if len(table.rows) < 30:
                story.append(KeepTogether(block))
            else:
                story += block
    return _build(story, A4, title, structure.name)


def _pdf_table(
    columns: list[str], rows: list[list[Any]], total: list[Any] | None, money: bool
) -> Table:
    styles = _styles()
    right = ParagraphStyle("cell_right", parent=styles.cell, alignment=TA_RIGHT)
    data = [[Paragraph(markup(text), styles.header_cell) for text in columns]]
    for row in [*rows, *([total] if total else [])]:
        cells = [Paragraph(markup(str(row[0])), styles.cell)]
        cells += [Paragraph(markup(_cell_text(value, money)), right) for value in row[1:]]
        data.append(cells)
    label_width = 174 - 30 * (len(columns) - 1)
    widths = [label_width * mm] + [30 * mm] * (len(columns) - 1)
    table = Table(data, colWidths=widths, repeatRows=1)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#929292")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if total:
        commands.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f6f6f6")))
    table.setStyle(TableStyle(commands))
    return table


def report_xlsx(structure: Structure, stats: statistics.Statistics, today: date) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Synthèse"
    year = stats.filters.start.year
    summary.append([f"Rapport d'activité {year} — {structure.name}"])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([f"{_period_text(stats)}. Édité le {french_date(today)}."])
    summary.append([])
    summary.append(["Indicateur", "Nombre"])
    _bold_row(summary, 4)
    for label, n in _summary(stats):
        summary.append([label, n])
    summary.append([])
    for note in NOTES:
        summary.append([note])
    summary.column_dimensions["A"].width = 45
    summary.column_dimensions["B"].width = 14

    used = {summary.title}
    for section in stats.sections:
        for table in section.tables:
            sheet = workbook.create_sheet(_sheet_title(table.sheet or table.title, used))
            sheet.append([table.title])
            sheet["A1"].font = Font(bold=True, size=12)
            sheet.append([])
            sheet.append(table.columns)
            _bold_row(sheet, 3)
            for row in [*table.rows, *([table.total] if table.total else [])]:
                sheet.append([str(row[0]), *row[1:]])
                if table.money:
                    for cell in sheet[sheet.max_row][1:]:
                        cell.number_format = MONEY_FORMAT
            if table.total:
                for cell in sheet[sheet.max_row]:
                    cell.font = Font(bold=True)
            sheet.freeze_panes = "A4"
            sheet.column_dimensions["A"].width = 45
            for index in range(2, len(table.columns) + 1):
                sheet.column_dimensions[get_column_letter(index)].width = 20
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _bold_row(sheet: Any, row: int) -> None:
    for cell in sheet[row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEEEEE")


def _sheet_title(name: str, used: set[str]) -> str:
    """Return a unique sheet name that Excel accepts: 31 characters at most, no []:*?/\\."""
    base = name.translate(INVALID_SHEET_CHARACTERS)[:31]
    title, counter = base, 2
    while title in used:
        suffix = f" ({counter})"
        title = base[: 31 - len(suffix)] + suffix
        counter += 1
    used.add(title)
    return title
