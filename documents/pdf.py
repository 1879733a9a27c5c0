"""The printed document (an invoice or a credit note, documents.model), drawn with ReportLab's
canvas in DejaVu Sans, and Droid Sans Fallback for the characters DejaVu lacks (Chinese, Japanese,
Korean); both ship in documents/fonts with their licences.

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
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from itertools import accumulate, groupby, repeat
from operator import itemgetter

from PIL import ImageCms
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from contracts.messages.common import Issuer
from contracts.references import format_in_groups
from documents import locale
from documents.epc_qr import TransferRequest, epc_qr
from documents.model import Document, vat_breakdown
from documents.texts import DocumentTexts, document_texts
from documents.user_text import address_lines, one_line, paragraphs

REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FALLBACK = "DroidSansFallback"  # no bold cut: bold text falls back to its regular weight
# Ideographs (UAX #14 class ID: Han, kana, Hangul), next to which a line may break, and the closing
# marks that must not start a line.
_IDEOGRAPHS = ((0x1100, 0x11FF), (0x2E80, 0x2FFF), (0x3040, 0x30FF), (0x3100, 0x31FF), (0x3400, 0x4DBF),
               (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF))
_CLOSING_IDEOGRAPHIC = frozenset("、。々〉》」』】〕ー！），．：；？")
_CLOSING = _CLOSING_IDEOGRAPHIC | frozenset(",.:;!?)]}")
_CJK = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _IDEOGRAPHS)
                  + "".join(_CLOSING_IDEOGRAPHIC) + "]")
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
# The transfer QR code, right of the payment details: 32 mm, some 0.7 mm a module, which phones read
# from paper and screens alike (EPC069-12 asks for no size).
_QR_SIZE = 32 * mm
_QR_CAPTION = 7
_MARK_RED = (0.78, 0.12, 0.12)
_GREY = (0.4, 0.4, 0.4)
_BLACK = (0, 0, 0)


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
    chosen = (FALLBACK if code not in primary and code in fallback else font for code in map(ord, text))
    return tuple(("".join(char for char, _ in run), run_font)
                 for run_font, run in groupby(zip(text, chosen, strict=True), key=itemgetter(1)))


def text_width(text: str, font: str, size: float) -> float:
    return sum(pdfmetrics.stringWidth(segment, run_font, size) for segment, run_font in runs(text, font))


@cache
def _srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@dataclass
class _Page:
    canvas: Canvas
    y: float = _TOP

    def text(self, text: str, *, x: float = _LEFT, size: float = 10, bold: bool = False, align: str = "left",
             colour: tuple[float, float, float] = _BLACK) -> None:
        # Thousands of calls in a long invoice: the colour is set only when it is not black.
        if colour != _BLACK:
            self.canvas.setFillColorRGB(*colour)
        font = BOLD if bold else REGULAR
        pieces = runs(text, font)
        if align == "right":
            x -= text_width(text, font, size)
        for segment, run_font in pieces:
            self.canvas.setFont(run_font, size)
            self.canvas.drawString(x, self.y, segment)
            if len(pieces) > 1:
                x += pdfmetrics.stringWidth(segment, run_font, size)
        if colour != _BLACK:
            self.canvas.setFillColorRGB(*_BLACK)

    def down(self, height: float) -> None:
        self.y -= height

    def room_for(self, height: float) -> bool:
        return self.y - height >= _BOTTOM


def _wrap(text: str, width: float, size: float, font: str = REGULAR) -> list[str]:
    """`text` in lines no wider than `width`, in time linear in its length: each character's width
    is looked up once, and each line ends at the last place it may break before its running width
    passes `width` (found by bisection, then a step back to a break). Measuring every candidate line,
    as this did before, cost the square of a word's length, and a text in Chinese or Japanese, which
    has no spaces, is one long word. Lines break at spaces and next to ideographs (never before a
    closing mark such as 。or ）); a word longer than a line is cut where it must be."""
    advances, missing = _advances(font)
    limit = width / size + 1e-9  # the sums below add the widths in another order than ReportLab
    lines: list[str] = []
    for paragraph in paragraphs(text):
        running = list(accumulate(map(advances.get, map(ord, paragraph), repeat(missing)), initial=0.0))
        start = 0
        if not paragraph:
            lines.append("")
        while start < len(paragraph):
            end = bisect_right(running, running[start] + limit) - 1
            if end >= len(paragraph):
                lines.append(paragraph[start:])
                break
            # The last space in reach, or a break next to an ideograph after it: a step back over the
            # last word, and only when that word has an ideograph (searched for at C speed).
            cut = max(paragraph.rfind(" ", start + 1, end + 1), start)
            if _CJK.search(paragraph, cut, end + 1):
                cut, last_word = end, cut
                while cut > last_word and not _may_break_before(paragraph, cut):
                    cut -= 1
            if cut == start:  # no break in reach: the word is cut
                cut = max(end, start + 1)
            lines.append(paragraph[start:cut].rstrip(" "))
            start = cut + (paragraph[cut] == " ")  # one_line left single spaces
    return lines


def _may_break_before(text: str, index: int) -> bool:
    """UAX #14 in short: at a space, and next to an ideograph (Han, kana, Hangul), except before a
    closing mark."""
    char, previous = text[index], text[index - 1]
    if char == " " or previous == " ":
        return True
    return char not in _CLOSING and (_ideograph(char) or _ideograph(previous) or previous in _CLOSING_IDEOGRAPHIC)


def _ideograph(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _IDEOGRAPHS)


@cache
def _advances(font: str) -> tuple[dict[int, float], float]:
    """Every character's advance at size 1 as `runs` draws it: in `font` where it has the character,
    else in the fallback font; and the advance of the missing-glyph box `font` draws for the rest."""
    primary, fallback = (pdfmetrics.getFont(name).face for name in (font, FALLBACK))
    advances = {code: width / 1000 for code, width in fallback.charWidths.items()}
    advances.update((code, width / 1000) for code, width in primary.charWidths.items())
    return advances, primary.defaultWidth / 1000


def title(document: Document, texts: DocumentTexts) -> str:
    return f"{texts.title_of(document.kind)} {document.number or texts.draft}"


def render_pdf(document: Document, issuer: Issuer, language: str) -> bytes:
    """The document in `language` as a one-or-more-page PDF, without the embedded XML."""
    _register_fonts()
    texts = document_texts(language)
    output = io.BytesIO()
    heading = title(document, texts)
    canvas = Canvas(output, pagesize=A4, invariant=True, pageCompression=1, pdfVersion=(1, 7))
    canvas.setTitle(one_line(heading))
    canvas.setAuthor(one_line(issuer.company_name))
    canvas.setCreator("invoicing-platform")
    _add_output_intent(canvas)
    page = _Page(canvas)

    _header(page, document, issuer, texts, language, heading)
    _lines_table(page, document, texts, language)
    _totals(page, document, texts, language)
    _payment(page, document, texts, language)
    canvas.showPage()
    canvas.save()
    return output.getvalue()


def _header(page: _Page, document: Document, issuer: Issuer, texts: DocumentTexts, language: str,
            heading: str) -> None:
    page.text(one_line(heading), x=_RIGHT, size=16, bold=True, align="right")
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
    dates = [f"{texts.issue_date_of(document.kind)}: {locale.long_date(document.issued_on, language)}"]
    if document.due_date:
        dates.append(f"{texts.due_date}: {locale.long_date(document.due_date, language)}")
    if document.corrects:
        dates.append(corrects(document, texts, language))
    for line in dates:
        page.text(line, x=_RIGHT, size=10, align="right")
        page.down(5 * mm)
    mark = {"paid": texts.paid_mark, "void": texts.void_mark}.get(document.status)
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
    customer = document.customer
    page.text(one_line(customer.name), size=11, bold=True)
    page.down(5 * mm)
    for line in address_lines(customer.address):
        page.text(line)
        page.down(4.6 * mm)
    if customer.tax_id:
        page.text(f"{texts.tax_id} {one_line(customer.tax_id)}")
        page.down(4.6 * mm)
    if document.status == "void":
        page.down(3 * mm)
        page.text(texts.void_notice, bold=True, colour=_MARK_RED)
        page.down(4.6 * mm)
    page.down(8 * mm)


def corrects(document: Document, texts: DocumentTexts, language: str) -> str:
    """"Corrects invoice X of <date>": the invoice a credit note takes back from."""
    return texts.corrects.format(number=document.corrects.number,
                                 date=locale.long_date(document.corrects.issued_on, language))


def _table_heading(page: _Page, texts: DocumentTexts) -> None:
    page.text(texts.description, size=9, bold=True)
    for label, right in ((texts.quantity, _QUANTITY_RIGHT), (texts.unit_price, _PRICE_RIGHT),
                         (texts.tax_rate, _RATE_RIGHT), (texts.amount, _RIGHT)):
        page.text(label, x=right, size=9, bold=True, align="right")
    page.canvas.line(_LEFT, page.y - 1.8 * mm, _RIGHT, page.y - 1.8 * mm)
    page.down(_ROW + 1 * mm)


def _lines_table(page: _Page, document: Document, texts: DocumentTexts, language: str) -> None:
    _table_heading(page, texts)
    currency = document.currency
    for line in document.lines:
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


def _totals(page: _Page, document: Document, texts: DocumentTexts, language: str) -> None:
    currency = document.currency

    def money(amount: int) -> str:
        return locale.money(amount, currency, language)

    rows = [(texts.subtotal, money(document.subtotal), False)]
    for group in vat_breakdown(document.lines):
        label = texts.tax_at_rate.format(rate=locale.percentage(group.rate, language), basis=money(group.basis))
        if group.category in texts.exemption_notes:  # why no VAT is charged, as the law wants it printed
            label = f"{label} ({texts.exemption_notes[group.category]})"
        rows.append((label, money(group.tax), False))
    rows.append((texts.total, money(document.total), True))
    if document.credit is not None:  # where the credit went, in place of what is owed
        credit = document.credit
        rows += [(label, money(amount), False) for label, amount in (
            (texts.credited_against_invoice, credit.against_invoice), (texts.refunded, credit.refund),
            (texts.credited_to_balance, credit.customer_balance)) if amount]
    else:
        if document.amount_paid:
            rows.append((texts.amount_paid, money(-document.amount_paid), False))
        rows.append((texts.amount_outstanding, money(document.amount_remaining), True))
    if not page.room_for(len(rows) * _ROW + 2 * mm):
        page.canvas.showPage()
        page.y = _TOP
    for label, value, bold in rows:
        page.text(label, x=_RATE_RIGHT, size=10, bold=bold, align="right")
        page.text(value, x=_RIGHT, size=10, bold=bold, align="right")
        page.down(_ROW + 0.5 * mm)
    page.down(6 * mm)


def _payment(page: _Page, document: Document, texts: DocumentTexts, language: str) -> None:
    rows = []
    # Transfer details only while something is owed: a paid or void invoice must not invite a payment.
    if document.payee_iban and document.amount_remaining > 0:
        bic = f"    {texts.bic}: {document.payee_bic}" if document.payee_bic else ""
        rows.append(f"{texts.iban}: {format_in_groups(document.payee_iban)}{bic}")
    if rows and document.payment_reference:
        rows.append(f"{texts.reference}: {format_in_groups(document.payment_reference)}")
    if rows and document.due_date:
        rows.append(f"{texts.due_date}: {locale.long_date(document.due_date, language)}")
    memo = _wrap(document.memo.strip(), _RIGHT - _LEFT, 9) if document.memo.strip() else []
    details = (len(rows) + 1) * _ROW
    if rows and document.transfer:
        details = max(details, _QR_SIZE + 2 * _QR_CAPTION)
    needed = details + len(memo) * 4.5 * mm + 6 * mm
    if not page.room_for(needed):
        page.canvas.showPage()
        page.y = _TOP
    if rows:
        top = page.y
        page.text(texts.payment, bold=True)
        page.down(_ROW)
        for row in rows:
            page.text(row)
            page.down(_ROW)
        if document.transfer:
            _transfer_qr(page.canvas, document.transfer, texts.scan_to_pay, top + 3.5 * mm)
        page.y = top - details
        page.down(4 * mm)
    for text in memo:
        page.text(text, size=9, colour=_GREY)
        page.down(4.5 * mm)


def _transfer_qr(canvas: Canvas, request: TransferRequest, caption: str, top: float) -> None:
    """The EPC QR code with its top right corner at (_RIGHT, top), its caption below: dark modules
    drawn as filled rectangles, one per run of a row (no image, nothing transparent: PDF/A)."""
    matrix = epc_qr(request).matrix
    module = _QR_SIZE / len(matrix)
    left = _RIGHT - _QR_SIZE
    for row, modules in enumerate(matrix):
        y = top - (row + 1) * module
        column = 0
        for dark, run in groupby(modules, key=bool):
            width = len(list(run))
            if dark:
                canvas.rect(left + column * module, y, width * module, module, stroke=0, fill=1)
            column += width
    # Right-aligned: a caption wider than the code reaches left, under the payment details, not into the margin.
    _Page(canvas, top - _QR_SIZE - _QR_CAPTION * 1.3).text(caption, x=_RIGHT, size=_QR_CAPTION, align="right",
                                                           colour=_GREY)


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
