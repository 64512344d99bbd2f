"""PDF documents of a commission session: the minutes and the decision letters.

Built with reportlab's platypus. The text font is Bitstream Vera, which ships inside the
reportlab package: no system font is needed, and it has the French letters and signs that
Latin-1 lacks (œ, ’, €). A character Vera does not have is written without its accent, or as
"?" when it has no plain-letter form, rather than as an empty box.
"""

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from core.enums import HelpRequestStatus
from core.models import Committee, HelpRequest
from tenants.models import Structure

FONT = "SuiviVera"
FONT_BOLD = "SuiviVera-Bold"
_FONT_FILES = {FONT: "Vera.ttf", FONT_BOLD: "VeraBd.ttf"}

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

APPEAL_TEXT = (
    "Vous pouvez contester cette décision dans un délai de deux mois à compter de sa "
    "notification, par un recours gracieux auprès {authority} ou par un recours contentieux "
    "devant le tribunal administratif territorialement compétent."
)


def _register_fonts() -> set[int]:
    """Register the Vera fonts once and return the characters they can draw."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        folder = Path(reportlab.__file__).parent / "fonts"
        for name, filename in _FONT_FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(folder / filename)))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)
    return set(pdfmetrics.getFont(FONT).face.charToGlyph)


def printable(text: str) -> str:
    """Return ``text`` with every character the font cannot draw replaced by a close one."""
    drawable = _register_fonts()
    out = []
    for char in text.replace("\u202f", "\u00a0"):
        if ord(char) in drawable or char in "\n\t":
            out.append(char)
            continue
        base = "".join(
            part for part in unicodedata.normalize("NFKD", char) if ord(part) in drawable
        )
        out.append(base or "?")
    return "".join(out)


def markup(text: str) -> str:
    """Text made safe for a platypus Paragraph: drawable characters, escaped, line breaks."""
    return escape(printable(text)).replace("\n", "<br/>")


def french_date(value: date) -> str:
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def euros(value: Decimal | None) -> str:
    if value is None:
        return ""
    grouped = f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",")
    return f"{grouped}\u00a0€"


@dataclass(frozen=True)
class _Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    bold: ParagraphStyle
    title: ParagraphStyle
    right: ParagraphStyle
    cell: ParagraphStyle
    header_cell: ParagraphStyle


def _styles() -> _Styles:
    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=14.5, spaceAfter=6)
    small = ParagraphStyle("small", parent=body, fontSize=9, leading=12, spaceAfter=0)
    return _Styles(
        body=body,
        small=small,
        bold=ParagraphStyle("bold", parent=body, fontName=FONT_BOLD),
        title=ParagraphStyle(
            "title", parent=body, fontName=FONT_BOLD, fontSize=15, leading=19, spaceAfter=10
        ),
        right=ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
        cell=ParagraphStyle("cell", parent=small, fontSize=8.5, leading=10.5),
        header_cell=ParagraphStyle(
            "header_cell", parent=small, fontName=FONT_BOLD, fontSize=8.5, leading=10.5
        ),
    )


def _letterhead(structure: Structure, styles: _Styles) -> list[Paragraph]:
    lines = [f"<b>{markup(structure.name)}</b>", markup(structure.address)]
    contact = " — ".join(part for part in [structure.phone, structure.email] if part)
    if contact:
        lines.append(markup(contact))
    return [Paragraph("<br/>".join(lines), styles.small)]


def _build(story: list, pagesize: tuple[float, float], title: str, author: str) -> bytes:  # type: ignore[type-arg]
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=printable(title),
        author=printable(author),
        lang="fr-FR",
    )

    def page_number(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.drawRightString(
            pagesize[0] - 18 * mm, 9 * mm, printable(f"{title} — page {doc.page}")
        )
        canvas.restoreState()

    document.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()


@dataclass(frozen=True)
class MinutesRow:
    """One examined aid request, as the minutes print it."""

    file_number: str
    person: str
    followup_type: str
    requested_amount: Decimal | None
    allocated_amount: Decimal | None
    status: str
    refusal_reason: str


def minutes_pdf(
    structure: Structure,
    committee: Committee,
    rows: list[MinutesRow],
    closed_on: date,
    closed_by: str,
) -> bytes:
    """Build the minutes ("procès-verbal") of a closed session: one line per examined request."""
    styles = _styles()
    title = f"Procès-verbal — {committee}"
    story: list = _letterhead(structure, styles)  # type: ignore[type-arg]
    story += [Spacer(1, 8 * mm), Paragraph(markup(title), styles.title)]
    counts = {status: 0 for status in HelpRequestStatus}
    granted_total = Decimal(0)
    for row in rows:
        counts[HelpRequestStatus(row.status)] += 1
        if row.status == HelpRequestStatus.ACCEPTED and row.allocated_amount:
            granted_total += row.allocated_amount
    summary = (
        f"Séance du {french_date(committee.date)}, close le {french_date(closed_on)} "
        f"par {closed_by}. {len(rows)} demande(s) examinée(s) : "
        f"{counts[HelpRequestStatus.ACCEPTED]} acceptée(s), "
        f"{counts[HelpRequestStatus.REFUSED]} refusée(s), "
        f"{counts[HelpRequestStatus.ADJOURNED]} ajournée(s). "
        f"Total des montants attribués : {euros(granted_total)}."
    )
    story.append(Paragraph(markup(summary), styles.body))
    story.append(Spacer(1, 4 * mm))

    headers = [
        "N° de dossier",
        "Personne",
        "Accompagnement",
        "Montant demandé",
        "Montant attribué",
        "Décision",
        "Motif du refus",
    ]
    lines = [[Paragraph(markup(text), styles.header_cell) for text in headers]]
    for row in rows:
        cells = [
            row.file_number,
            row.person,
            row.followup_type,
            euros(row.requested_amount),
            euros(row.allocated_amount),
            HelpRequestStatus(row.status).label,
            row.refusal_reason if row.status == HelpRequestStatus.REFUSED else "",
        ]
        lines.append([Paragraph(markup(text), styles.cell) for text in cells])
    widths = [x * mm for x in (24, 42, 44, 26, 26, 24, 75)]
    # Long refusal reasons may make a row taller than a page: let rows split across pages.
    table = Table(lines, colWidths=widths, repeatRows=1, splitInRow=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#929292")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    story.append(table)
    return _build(story, landscape(A4), title, structure.name)


def _appeal_authority(structure: Structure) -> str:
    if structure.kind in (Structure.Kind.CCAS, Structure.Kind.CIAS):
        return f"du président du {Structure.Kind(structure.kind).label}"
    return f"de {structure.name}"


def _recipient(help_request: HelpRequest) -> str:
    beneficiary = help_request.beneficiary
    civility = beneficiary.get_civility_display() if beneficiary.civility else ""
    name = " ".join(part for part in [civility, beneficiary.display_name] if part)
    street = " ".join(part for part in [beneficiary.street_number, beneficiary.street] if part)
    town = " ".join(part for part in [beneficiary.postal_code, beneficiary.city] if part)
    lines = [name, street, beneficiary.address_complement, town]
    return "<br/>".join(markup(line) for line in lines if line)


def decision_letter_pdf(
    structure: Structure, committee: Committee, help_request: HelpRequest, letter_date: date
) -> bytes:
    """Build the letter that tells the person the session's decision on their request."""
    styles = _styles()
    beneficiary = help_request.beneficiary
    accepted = help_request.status != HelpRequestStatus.REFUSED
    subject = "Attribution d'une aide" if accepted else "Refus de votre demande d'aide"
    title = f"{subject} — dossier n°{beneficiary.file_number}"
    story: list = _letterhead(structure, styles)  # type: ignore[type-arg]
    story += [
        Spacer(1, 10 * mm),
        Table(
            [["", Paragraph(_recipient(help_request), styles.body)]],
            colWidths=[95 * mm, 79 * mm],
            style=[("LEFTPADDING", (0, 0), (-1, -1), 0)],
        ),
        Spacer(1, 8 * mm),
        Paragraph(markup(f"Le {french_date(letter_date)}"), styles.right),
        Spacer(1, 6 * mm),
        Paragraph(f"<b>Objet :</b> {markup(subject)}", styles.body),
        Paragraph(
            markup(
                f"Dossier n°{beneficiary.file_number} — demande « {help_request.followup_type} » "
                f"du {french_date(help_request.opening_date)}"
            ),
            styles.body,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Madame, Monsieur,", styles.body),
    ]

    examined = (
        f"Votre demande d'aide « {help_request.followup_type} », ouverte le "
        f"{french_date(help_request.opening_date)}, a été examinée par la "
        f"{committee.get_kind_display()} lors de sa séance du {french_date(committee.date)}."
    )
    story.append(Paragraph(markup(examined), styles.body))

    if accepted:
        if help_request.allocated_amount is not None:
            decision = (
                "Elle a décidé de vous attribuer une aide d'un montant de "
                f"{euros(help_request.allocated_amount)}."
            )
            if help_request.requested_amount is not None:
                decision += f" Vous aviez demandé {euros(help_request.requested_amount)}."
        else:
            decision = "Elle a décidé d'accepter votre demande."
        story.append(Paragraph(markup(decision), styles.body))
    else:
        story.append(
            Paragraph(
                markup("Elle a décidé de refuser votre demande, pour le motif suivant :"),
                styles.body,
            )
        )
        story.append(Paragraph(markup(help_request.refusal_reason), styles.bold))

    story.append(Spacer(1, 2 * mm))
    story.append(
        Paragraph(markup(APPEAL_TEXT.format(authority=_appeal_authority(structure))), styles.body)
    )
    story.append(
        Paragraph(
            markup(
                "Nous vous prions d'agréer, Madame, Monsieur, l'expression de nos salutations "
                "distinguées."
            ),
            styles.body,
        )
    )
    story.append(Spacer(1, 10 * mm))
    story.append(KeepTogether([Paragraph(markup(structure.name), styles.right)]))
    return _build(story, A4, title, structure.name)
