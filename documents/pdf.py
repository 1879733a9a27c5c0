"""The printed invoice, drawn with ReportLab's canvas in DejaVu Sans, and Droid Sans Fallback for the
characters DejaVu lacks (Chinese, Japanese, Korean); both ship in documents/fonts with their licences.

ReportLab was chosen over fpdf2 by bench/documents.py: it parses the font once per process and
subsets it per document, where fpdf2 parses the whole TrueType file for every document (about
100 ms). The canvas is used directly, without ReportLab's flowables, for the same reason.

Every string is drawn as text in embedded Unicode fonts, so names in Latin, Greek, Cyrillic,
Armenian, Georgian, Chinese, Japanese or Korean print as typed (a string is cut into runs, each in
the first font that has its characters), and nothing a user types can become PDF syntax. Controls
and line breaks in one-line fields are reduced to spaces. Scripts that need shaping (Arabic, the
Indic scripts) print their letters unjoined: ReportLab's canvas does no shaping.

The page is what PDF/A-3 asks for (checked by Mustang's validator in the tests): every font
embedded, no transparency, and an sRGB output intent; documents.document adds the XMP metadata and
the embedded XML.
"""

import io
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from PIL import ImageCms
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from contracts.messages.common import Address, InvoiceSnapshot, Issuer
from contracts.references import format_in_groups
from documents import locale
from documents.cii import issue_date, vat_breakdown
from documents.texts import DocumentTexts, document_texts

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FALLBACK = "DroidSansFallback"  # no bold cut: bold text falls back to its regular weight
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_WIDTH, _HEIGHT = A4
_LEFT = 20 * mm
_RIGHT = _WIDTH - 20 * mm
_TOP = _HEIGHT - 20 * mm
_BOTTOM = 20 * mm
# Right edges of the figure columns of the lines table; the description fills what is left of them.
_QUANTITY_RIGHT, _PRICE_RIGHT, _RATE_RIGHT = _LEFT + 104 * mm, _LEFT + 128 * mm, _LEFT + 143 * mm
_DESCRIPTION_WIDTH = 85 * mm
_SELLER_WIDTH = 80 * mm
_ROW = 5 * mm
_MARK_RED = (0.78, 0.12, 0.12)
_GREY = (0.4, 0.4, 0.4)


@cache
def _register_fonts() -> None:
    fonts = resources.files("documents") / "fonts"
    for name in (REGULAR, BOLD, FALLBACK):
        pdfmetrics.registerFont(TTFont(name, str(fonts / f"{name}.ttf")))


@cache
def _covered(font: str) -> frozenset[int]:
    return frozenset(pdfmetrics.getFont(font).face.charToGlyph)


@lru_cache(maxsize=8192)  # labels and many figures come back in every document
def runs(text: str, font: str) -> tuple[tuple[str, str], ...]:
    """`text` cut into (segment, font) runs: `font` where it has the character, else the fallback
    font where that has it, else `font` (which draws its missing-glyph box)."""
    primary, fallback = _covered(font), _covered(FALLBACK)
    if all(ord(char) in primary for char in text):
        return ((text, font),)  # nearly every string: one run
    result: list[tuple[str, str]] = []
    for char in text:
        code = ord(char)
        chosen = FALLBACK if code not in primary and code in fallback else font
        if result and result[-1][1] == chosen:
            result[-1] = (result[-1][0] + char, chosen)
        else:
            result.append((char, chosen))
    return tuple(result)


def text_width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(segment, run_font, size) for segment, run_font in runs(text, font))


@cache
def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def one_line(text: str) -> str:
    return " ".join(_CONTROLS.sub(" ", text).split())


def address_lines(address: Address) -> list[str]:
    place = " ".join(part for part in (address.postal_code, address.city) if part)
    return [one_line(line) for line in (address.line1, address.line2, place, address.country) if line]


@dataclass
class _Page:
    canvas: Canvas
    y: float = _TOP

    def text(self, text: str, *, x: float = _LEFT, size: float = 10, bold: bool = False, align: str = "left",
             colour: tuple[float, float, float] = (0, 0, 0)) -> None:
        self.canvas.setFillColorRGB(*colour)
        font = BOLD if bold else REGULAR
        pieces = runs(text, font)
        if align == "right":
            x -= text_width(text, font, size)
        for segment, run_font in pieces:
            self.canvas.setFont(run_font, size)
            self.canvas.drawString(x, self.y, segment)
            x += pdfmetrics.stringWidth(segment, run_font, size)
        self.canvas.setFillColorRGB(0, 0, 0)

    def down(self, height: float) -> None:
        self.y -= height

    def room_for(self, height: float) -> bool:
        return self.y - height >= _BOTTOM


def _wrap(text: str, width: float, size: float, font: str = REGULAR) -> list[str]:
    """Words to lines no wider than `width`; a word longer than a line is cut where it must be."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, font, size) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while text_width(word, font, size) > width:
                cut = next(i for i in range(len(word), 0, -1) if text_width(word[:i], font, size) <= width)
                lines.append(word[:max(cut, 1)])
                word = word[max(cut, 1):]
            line = word
        lines.append(line)
    return lines


def render_pdf(invoice: InvoiceSnapshot, issuer: Issuer, language: str) -> bytes:
    """The invoice in `language` as a one-or-more-page PDF, without the embedded XML."""
    _register_fonts()
    texts = document_texts(language)
    output = io.BytesIO()
    title = f"{texts.document_title} {invoice.number or texts.draft}"
    canvas = Canvas(output, pagesize=A4, invariant=True, pageCompression=1, pdfVersion=(1, 7))
    canvas.setTitle(one_line(title))
    canvas.setAuthor(one_line(issuer.company_name))
    canvas.setCreator("invoicing-platform")
    _add_output_intent(canvas)
    page = _Page(canvas)

    _header(page, invoice, issuer, texts, language, title)
    _lines_table(page, invoice, texts, language)
    _totals(page, invoice, texts, language)
    _payment(page, invoice, texts, language)
    canvas.showPage()
    canvas.save()
    return output.getvalue()


def _header(page: _Page, invoice: InvoiceSnapshot, issuer: Issuer, texts: DocumentTexts, language: str,
            title: str) -> None:
    page.text(one_line(title), x=_RIGHT, size=16, bold=True, align="right")
    top = page.y
    for line in _wrap(one_line(issuer.company_name), _SELLER_WIDTH, 13, BOLD):
        page.text(line, size=13, bold=True)
        page.down(5.5 * mm)
    page.down(0.5 * mm)
    for line in [*address_lines(issuer.address), issuer.email]:
        page.text(line, size=9, colour=_GREY)
        page.down(4.2 * mm)
    if issuer.tax_id:
        page.text(f"{texts.tax_id} {one_line(issuer.tax_id)}", size=9, colour=_GREY)
        page.down(4.2 * mm)
    seller_bottom = page.y

    page.y = top - 8 * mm
    dates = [(texts.issue_date, locale.long_date(issue_date(invoice), language))]
    if invoice.due_date:
        dates.append((texts.due_date, locale.long_date(invoice.due_date, language)))
    for label, value in dates:
        page.text(f"{label}: {value}", x=_RIGHT, size=10, align="right")
        page.down(5 * mm)
    mark = {"paid": texts.paid_mark, "void": texts.void_mark}.get(invoice.status)
    if mark:
        page.down(8 * mm)
        page.text(mark, x=_RIGHT, size=26, bold=True, align="right", colour=_MARK_RED)
        width = text_width(mark, BOLD, 26)
        page.canvas.setStrokeColorRGB(*_MARK_RED)
        page.canvas.setLineWidth(2)
        page.canvas.rect(_RIGHT - width - 3 * mm, page.y - 3 * mm, width + 6 * mm, 12 * mm)
        page.canvas.setStrokeColorRGB(0, 0, 0)
        page.down(6 * mm)

    page.y = min(page.y, seller_bottom) - 8 * mm
    page.text(texts.bill_to, size=9, bold=True, colour=_GREY)
    page.down(5 * mm)
    customer = invoice.customer
    page.text(one_line(customer.name), size=11, bold=True)
    page.down(5 * mm)
    for line in address_lines(customer.address):
        page.text(line)
        page.down(4.6 * mm)
    if customer.tax_id:
        page.text(f"{texts.tax_id} {one_line(customer.tax_id)}")
        page.down(4.6 * mm)
    if invoice.status == "void":
        page.down(3 * mm)
        page.text(texts.void_notice, bold=True, colour=_MARK_RED)
        page.down(4.6 * mm)
    page.down(8 * mm)


def _table_heading(page: _Page, texts: DocumentTexts) -> None:
    page.text(texts.description, size=9, bold=True)
    for label, right in ((texts.quantity, _QUANTITY_RIGHT), (texts.unit_price, _PRICE_RIGHT),
                         (texts.tax_rate, _RATE_RIGHT), (texts.amount, _RIGHT)):
        page.text(label, x=right, size=9, bold=True, align="right")
    page.canvas.line(_LEFT, page.y - 1.8 * mm, _RIGHT, page.y - 1.8 * mm)
    page.down(_ROW + 1 * mm)


def _lines_table(page: _Page, invoice: InvoiceSnapshot, texts: DocumentTexts, language: str) -> None:
    _table_heading(page, texts)
    currency = invoice.currency
    for line in invoice.lines:
        wrapped = _wrap(line.description, _DESCRIPTION_WIDTH, 9)
        if not page.room_for(len(wrapped) * _ROW):
            page.canvas.showPage()
            page.y = _TOP
            _table_heading(page, texts)
        figures = (
            (locale.quantity(line.quantity, language), _QUANTITY_RIGHT),
            (locale.money(line.unit_amount, currency, language), _PRICE_RIGHT),
            (locale.percentage(line.tax_rate, language), _RATE_RIGHT),
            (locale.money(line.amount, currency, language), _RIGHT),
        )
        for figure, right in figures:
            page.text(figure, x=right, size=9, align="right")
        for text in wrapped:
            page.text(text, size=9)
            page.down(_ROW)
    page.canvas.line(_LEFT, page.y + 2.5 * mm, _RIGHT, page.y + 2.5 * mm)
    page.down(3 * mm)


def _totals(page: _Page, invoice: InvoiceSnapshot, texts: DocumentTexts, language: str) -> None:
    currency = invoice.currency

    def money(amount: int) -> str:
        return locale.money(amount, currency, language)

    rows = [(texts.subtotal, money(invoice.subtotal), False)]
    rows += [(texts.tax_at_rate.format(rate=locale.percentage(rate, language), basis=money(basis)), money(tax), False)
             for rate, basis, tax in vat_breakdown(invoice)]
    rows.append((texts.total, money(invoice.total), True))
    if invoice.amount_paid:
        rows.append((texts.amount_paid, money(-invoice.amount_paid), False))
    rows.append((texts.amount_outstanding, money(invoice.amount_remaining), True))
    if not page.room_for(len(rows) * _ROW + 2 * mm):
        page.canvas.showPage()
        page.y = _TOP
    for label, value, bold in rows:
        page.text(label, x=_RATE_RIGHT, size=10, bold=bold, align="right")
        page.text(value, x=_RIGHT, size=10, bold=bold, align="right")
        page.down(_ROW + 0.5 * mm)
    page.down(6 * mm)


def _payment(page: _Page, invoice: InvoiceSnapshot, texts: DocumentTexts, language: str) -> None:
    rows = []
    # Transfer details only while something is owed: a paid or void invoice must not invite a payment.
    if invoice.payee_iban and invoice.amount_remaining > 0:
        rows.append(f"{texts.iban}: {format_in_groups(invoice.payee_iban)}")
    if rows and invoice.payment_reference:
        rows.append(f"{texts.reference}: {format_in_groups(invoice.payment_reference)}")
    if rows and invoice.due_date:
        rows.append(f"{texts.due_date}: {locale.long_date(invoice.due_date, language)}")
    memo = _wrap(invoice.memo.strip(), _RIGHT - _LEFT, 9) if invoice.memo.strip() else []
    needed = (len(rows) + 1) * _ROW + len(memo) * 4.5 * mm + 6 * mm
    if not page.room_for(needed):
        page.canvas.showPage()
        page.y = _TOP
    if rows:
        page.text(texts.payment, bold=True)
        page.down(_ROW)
        for row in rows:
            page.text(row)
            page.down(_ROW)
        page.down(4 * mm)
    for text in memo:
        page.text(text, size=9, colour=_GREY)
        page.down(4.5 * mm)


def _add_output_intent(canvas: Canvas) -> None:
    """PDF/A's output intent: the colours on the page are sRGB (an ICC profile made by Pillow's
    LittleCMS). ReportLab writes only the catalog entries it knows, so the entry is declared on
    this document's catalog."""
    document = canvas._doc
    profile = pdfdoc.PDFStream(pdfdoc.PDFDictionary({"N": 3}), _srgb_profile())
    profile.filters = [pdfdoc.PDFZCompress]
    intent = pdfdoc.PDFDictionary({
        "Type": pdfdoc.PDFName("OutputIntent"),
        "S": pdfdoc.PDFName("GTS_PDFA1"),
        "OutputConditionIdentifier": pdfdoc.PDFString("sRGB IEC61966-2.1"),
        "Info": pdfdoc.PDFString("sRGB IEC61966-2.1"),
        "DestOutputProfile": document.Reference(profile),
    })
    catalog = document.Catalog
    catalog.__NoDefault__ = [*catalog.__NoDefault__, "OutputIntents"]
    catalog.OutputIntents = pdfdoc.PDFArray([intent])
