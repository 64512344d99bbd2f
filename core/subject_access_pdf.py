"""The right-of-access export of one file as a PDF, laid out from the dictionary that
``core.services.subject_access.subject_access_data`` builds.

It reads only the labels and displayed values of that dictionary, so it shows exactly what the
JSON export contains. It uses the styles, the Vera font and the page footer of ``core.pdf``.
Every table may split a row across pages, so a long text or many rows continue on the next
page.
"""

from datetime import datetime
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, PageBreak, Paragraph, Spacer, Table, TableStyle

from core.pdf import _build, _styles, french_date, markup

# The text width of an A4 page with the 18 mm margins of ``core.pdf``.
_TEXT_WIDTH = 174 * mm
_LABEL_WIDTH = 58 * mm
_GRID = colors.HexColor("#929292")
_HEADER_BACKGROUND = colors.HexColor("#eeeeee")


def subject_access_pdf(data: dict[str, Any]) -> bytes:
    """Build the PDF: a title page, then one section per part of the file."""
    styles = _styles()
    heading = ParagraphStyle(
        "section", parent=styles.title, fontSize=13, leading=17, spaceBefore=4, spaceAfter=6
    )
    export = data["export"]
    counts = {
        "relatives": len(data["relatives"]),
        "followups": len(data["followups"]),
        "help_requests": len(data["help_requests"]),
        "documents": len(data["documents"]),
        "history": len(data["history"]),
        "consultations": len(data["consultations"]),
    }

    story: list = _title_page(data, counts)  # type: ignore[type-arg]

    story += _section_heading("Informations du dossier", heading)
    for section in data["file"]["sections"]:
        if not section["fields"]:
            continue
        story.append(CondPageBreak(25 * mm))
        story.append(Paragraph(markup(section["title"]), styles.bold))
        story.append(_fields_table(section["fields"]))
        story.append(Spacer(1, 4 * mm))

    story += _items_section(
        f"Entourage ({counts['relatives']})",
        data["relatives"],
        "Aucun membre de l'entourage n'est renseigné.",
        heading,
    )
    story += _items_section(
        f"Entretiens ({counts['followups']})",
        data["followups"],
        "Aucun entretien.",
        heading,
    )
    story += _items_section(
        f"Demandes d'aide ({counts['help_requests']})",
        data["help_requests"],
        "Aucune demande d'aide.",
        heading,
    )

    story += _section_heading(f"Documents ({counts['documents']})", heading)
    story.append(
        Paragraph(
            markup(
                "La liste des documents joints au dossier. Les fichiers eux-mêmes ne sont pas "
                "inclus dans cet export."
            ),
            styles.small,
        )
    )
    story.append(Spacer(1, 2 * mm))
    if data["documents"]:
        columns = [entry["label"] for entry in data["documents"][0]["fields"]]
        rows = [[entry["display"] for entry in item["fields"]] for item in data["documents"]]
        story.append(_grid_table(columns, rows))
    else:
        story.append(Paragraph(markup("Aucun document."), styles.body))

    story += _section_heading(f"Historique des changements ({counts['history']})", heading)
    if data["history"]:
        rows = [
            [row["date_display"], row["operation"], row["actor"], _changes_text(row["changes"])]
            for row in data["history"]
        ]
        story.append(
            _grid_table(["Date", "Opération", "Auteur", "Changements"], rows, [26, 36, 40, 72])
        )
    else:
        story.append(Paragraph(markup("Aucun changement enregistré."), styles.body))

    story += _section_heading(f"Consultations du dossier ({counts['consultations']})", heading)
    if data["consultations"]:
        rows = [
            [consultation["date_display"], consultation["agent"], consultation["role"]]
            for consultation in data["consultations"]
        ]
        story.append(_grid_table(["Date", "Agent", "Rôle"], rows, [40, 74, 60]))
    else:
        story.append(Paragraph(markup("Aucune consultation enregistrée."), styles.body))

    return _build(story, A4, export["title"], data["structure"]["name"])


def _title_page(data: dict[str, Any], counts: dict[str, int]) -> list:  # type: ignore[type-arg]
    styles = _styles()
    big = ParagraphStyle("cover", parent=styles.title, fontSize=20, leading=25, spaceAfter=14)
    export = data["export"]
    structure = data["structure"]
    generated_at = datetime.fromisoformat(export["generated_at"])

    contact = " — ".join(part for part in [structure["phone"], structure["email"]] if part)
    story: list = [  # type: ignore[type-arg]
        Paragraph(markup(structure["name"]), styles.title),
        Paragraph(markup(structure["address"]), styles.small),
    ]
    if contact:
        story.append(Paragraph(markup(contact), styles.small))
    story += [
        Spacer(1, 40 * mm),
        Paragraph(markup(f"Dossier de {data['file']['display_name']}"), big),
        Paragraph(markup(f"Dossier n°{data['file']['file_number']}"), styles.bold),
        Paragraph(
            markup(
                "Toutes les informations que la structure détient sur la personne, "
                "communiquées au titre du droit d'accès (article 15 du RGPD)."
            ),
            styles.body,
        ),
        Paragraph(
            markup(
                f"Édité le {french_date(generated_at.date())} à {generated_at:%H:%M} "
                f"par {export['generated_by']}."
            ),
            styles.body,
        ),
        Spacer(1, 8 * mm),
        Paragraph(markup("Contenu"), styles.bold),
    ]
    contents = [
        "Informations du dossier",
        f"Entourage : {counts['relatives']}",
        f"Entretiens : {counts['followups']}",
        f"Demandes d'aide : {counts['help_requests']}",
        f"Documents (liste, sans les fichiers) : {counts['documents']}",
        f"Historique des changements : {counts['history']}",
        f"Consultations du dossier : {counts['consultations']}",
    ]
    story += [Paragraph(markup(f"• {line}"), styles.body) for line in contents]
    story.append(Spacer(1, 4 * mm))
    if export["private_syntheses_included"]:
        private = (
            "Les comptes rendus privés sont inclus. Un compte rendu privé est la note de travail "
            "de l'agent qui l'a écrit."
        )
    else:
        private = "Les comptes rendus privés des agents ne sont pas inclus."
    story.append(Paragraph(markup(private), styles.small))
    if not export["nir_included"]:
        story.append(
            Paragraph(markup("Le numéro de sécurité sociale n'est pas inclus."), styles.small)
        )
    story.append(PageBreak())
    return story


def _section_heading(title: str, style: ParagraphStyle) -> list:  # type: ignore[type-arg]
    return [CondPageBreak(40 * mm), Spacer(1, 6 * mm), Paragraph(markup(title), style)]


def _items_section(
    title: str, items: list[dict[str, Any]], empty: str, heading: ParagraphStyle
) -> list:  # type: ignore[type-arg]
    styles = _styles()
    story = _section_heading(title, heading)
    if not items:
        story.append(Paragraph(markup(empty), styles.body))
    for item in items:
        story.append(CondPageBreak(25 * mm))
        story.append(Paragraph(markup(item["title"]), styles.bold))
        story.append(_fields_table(item["fields"]))
        if item.get("comments"):
            story.append(Spacer(1, 2 * mm))
            rows = [
                [comment["date_display"], comment["author"], comment["content"]]
                for comment in item["comments"]
            ]
            story.append(
                _grid_table(["Commentaire du", "Auteur", "Commentaire"], rows, [30, 40, 104])
            )
        story.append(Spacer(1, 5 * mm))
    return story


def _fields_table(fields: list[dict[str, Any]]) -> Table:
    """Return a two-column table: each field's label, then its displayed value."""
    styles = _styles()
    rows = [
        [
            Paragraph(markup(entry["label"]), styles.header_cell),
            Paragraph(markup(_plain(entry["display"])), styles.cell),
        ]
        for entry in fields
    ]
    table = Table(rows, colWidths=[_LABEL_WIDTH, _TEXT_WIDTH - _LABEL_WIDTH], splitInRow=1)
    table.setStyle(_table_style(header_cells=((0, 0), (0, -1))))
    return table


def _grid_table(
    columns: list[str], rows: list[list[str]], widths_mm: list[float] | None = None
) -> Table:
    """Return a table with a header row repeated on each page; ``widths_mm`` defaults to equal
    columns."""
    styles = _styles()
    widths = [width * mm for width in widths_mm] if widths_mm else None
    if widths is None:
        widths = [_TEXT_WIDTH / len(columns)] * len(columns)
    data = [[Paragraph(markup(text), styles.header_cell) for text in columns]]
    data += [[Paragraph(markup(_plain(text)), styles.cell) for text in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(_table_style(header_cells=((0, 0), (-1, 0))))
    return table


def _table_style(header_cells: tuple[tuple[int, int], tuple[int, int]]) -> TableStyle:
    """Return the grid style of the export's tables, with a grey background on the header
    cells, given as the (first, last) corners of their range."""
    first, last = header_cells
    return TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.4, _GRID),
            ("BACKGROUND", first, last, _HEADER_BACKGROUND),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
    )


def _changes_text(changes: list[dict[str, Any]]) -> str:
    lines = []
    for change in changes:
        if change["old"] is None:
            lines.append(f"{change['label']} : « {change['new']} »")
        else:
            lines.append(f"{change['label']} : « {change['old']} » → « {change['new']} »")
    return "\n".join(lines)


def _plain(text: str) -> str:
    """Return ``text`` with Windows and old Mac line ends as plain line breaks."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
