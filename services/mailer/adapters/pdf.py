"""The invoice as a PDF attachment, drawn with fpdf2.

fpdf2's built-in fonts cover Latin-1 only and no font file ships with our dependencies, so text
is transliterated: a letter outside Latin-1 loses its accent (Ś -> S), common typography is
spelled out (€ -> EUR), and what has no Latin-1 form (Ł, Cyrillic, CJK) becomes "?". The
document stays readable for European names and never fails on a name in another script. Everything drawn is
plain text, so user input cannot become PDF syntax.
"""

import unicodedata
from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from contracts.messages.common import Address, InvoiceSnapshot, Issuer
from contracts.references import format_in_groups
from services.mailer.domain.composition import invoice_number, local_date, money, single_line
from services.mailer.domain.translations import Texts, texts_for

_TYPOGRAPHY = str.maketrans(
    {"€": "EUR", "‘": "'", "’": "'", "‚": ",", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "…": "...",
     "•": "*", "\u2009": " ", "\u202f": " "}
)
_COLUMN_WIDTHS = (86, 20, 32, 20, 32)  # mm, the page's width between its margins
_ROW_HEIGHT = 6  # mm, one line of the lines table
_MARK_COLOUR = (200, 30, 30)


def latin1(text: str) -> str:
    printable = []
    for char in text.translate(_TYPOGRAPHY):
        if ord(char) < 256:
            printable.append(char)
        else:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            printable.append(base or "?")
    return "".join(printable)


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _address_lines(address: Address) -> list[str]:
    place = " ".join(part for part in (address.postal_code, address.city) if part)
    return [line for line in (address.line1, address.line2, place, address.country) if line]


class _Document(FPDF):
    def line_of_text(self, text: str, *, size: float = 10, style: str = "", align: str = "L") -> None:
        self.set_font("Helvetica", style, size)
        self.cell(0, size * 0.5, latin1(single_line(text)), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def label_value(self, label: str, value: str, *, style: str = "") -> None:
        self.set_font("Helvetica", style, 10)
        self.cell(150, 6, latin1(label), align="R")
        self.cell(0, 6, latin1(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_invoice_pdf(invoice: InvoiceSnapshot, issuer: Issuer, language: str) -> bytes:
    texts = texts_for(language)
    pdf = _Document(format="A4")
    pdf.set_title(latin1(f"{texts.document_title} {invoice_number(invoice, texts)}"))
    pdf.set_author(latin1(single_line(issuer.company_name)))
    pdf.add_page()

    pdf.line_of_text(issuer.company_name, size=16, style="B")
    for line in [*_address_lines(issuer.address), issuer.email, issuer.tax_id]:
        if line:
            pdf.line_of_text(line)
    pdf.ln(6)

    pdf.line_of_text(f"{texts.document_title} {invoice_number(invoice, texts)}", size=18, style="B")
    mark = {"paid": texts.paid_mark, "void": texts.void_mark}.get(invoice.status)
    if mark:
        pdf.set_text_color(*_MARK_COLOUR)
        pdf.line_of_text(mark, size=28, style="B")
        pdf.set_text_color(0, 0, 0)
    issued = invoice.finalized_at or invoice.created_at
    pdf.line_of_text(f"{texts.issue_date}: {local_date(issued, texts)}")
    if invoice.due_date:
        pdf.line_of_text(f"{texts.due_date}: {local_date(invoice.due_date, texts)}")
    pdf.ln(4)

    pdf.line_of_text(texts.bill_to, style="B")
    customer = invoice.customer
    for line in [customer.name, *_address_lines(customer.address), customer.tax_id]:
        if line:
            pdf.line_of_text(line)
    pdf.ln(6)

    _lines_table(pdf, invoice, texts)
    pdf.ln(4)
    currency = invoice.currency
    pdf.label_value(texts.subtotal, money(invoice.subtotal, currency))
    pdf.label_value(texts.tax, money(invoice.tax, currency))
    pdf.label_value(texts.total, money(invoice.total, currency), style="B")
    if invoice.amount_paid:
        pdf.label_value(texts.amount_paid, money(invoice.amount_paid, currency))
    pdf.label_value(texts.amount_outstanding, money(invoice.amount_remaining, currency), style="B")
    pdf.ln(6)

    if invoice.payee_iban:
        pdf.line_of_text(f"{texts.iban}: {format_in_groups(invoice.payee_iban)}")
    if invoice.payment_reference:
        pdf.line_of_text(f"{texts.reference}: {format_in_groups(invoice.payment_reference)}")
    if invoice.memo.strip():
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 5, latin1(invoice.memo.strip()))
    return bytes(pdf.output())


def _lines_table(pdf: _Document, invoice: InvoiceSnapshot, texts: Texts) -> None:
    # Drawn cell by cell: fpdf2's table API lays out every cell as a paragraph, and took most of
    # the time spent on a document.
    heading = (texts.description, texts.quantity, texts.unit_price, texts.tax, texts.amount)
    _table_row(pdf, heading)
    for line in invoice.lines:
        _table_row(pdf, (line.description, _decimal(line.quantity), money(line.unit_amount, invoice.currency),
                         f"{_decimal(line.tax_rate)} %", money(line.amount, invoice.currency)), heading)


def _table_row(pdf: _Document, cells: tuple[str, ...], heading: tuple[str, ...] | None = None) -> None:
    """One row at the cursor, framed; the description wraps, the figures are right-aligned. A row
    under `heading` that starts a new page repeats the heading there; the heading is bold."""
    pdf.set_font("Helvetica", "" if heading else "B", 9)
    description, *figures = (latin1(cell) for cell in cells)
    description_width, *figure_widths = _COLUMN_WIDTHS
    if "\n" not in description and pdf.get_string_width(description) <= description_width - 2 * pdf.c_margin:
        wrapped = [description]  # most descriptions: no need for fpdf2's slower line breaking
    else:
        wrapped = pdf.multi_cell(description_width, _ROW_HEIGHT, description, dry_run=True, output="LINES")
    height = len(wrapped) * _ROW_HEIGHT
    if pdf.will_page_break(height):
        pdf.add_page()
        if heading:
            _table_row(pdf, heading)
            pdf.set_font("Helvetica", "", 9)
    x, y = pdf.l_margin, pdf.get_y()
    for width in _COLUMN_WIDTHS:
        pdf.rect(x, y, width, height)
        x += width
    for index, text in enumerate(wrapped):
        pdf.set_xy(pdf.l_margin, y + index * _ROW_HEIGHT)
        pdf.cell(description_width, _ROW_HEIGHT, text)
    pdf.set_xy(pdf.l_margin + description_width, y)
    for width, figure in zip(figure_widths, figures, strict=True):
        pdf.cell(width, _ROW_HEIGHT, figure, align="R")
    pdf.set_xy(pdf.l_margin, y + height)
