"""Render time of invoice documents on one core, by their number of lines, and per PDF engine.

    make bench-documents                  (or: .venv/bin/python -m bench.documents [--engines])

Each document is the whole thing the mailer attaches and the hosted page serves: the page drawn in
DejaVu Sans (and Droid Sans Fallback for CJK) with Babel's formats, the CII XML built, and the
factur-x library's step that embeds it and makes the file PDF/A-3. Rendered in this one process
(one core), after a warm-up document; CPU time (process time), the best of a few runs.

By size: invoices of 30 lines, of the most an invoice may have (MAX_LINES, 250) and of 500 (beyond
what the contracts accept, the issue's target), whose descriptions and memo are at the contracts'
maximum of 500 characters, in German words, in Chinese (no spaces: every line break is found between
ideographs) and as one unbroken word; the target is 500 lines under 0.5 s. Then how wrapping's time
grows with a text's length (linear is the target).

With --engines, complete documents per second for two PDF engines on a 5-line invoice:
- reportlab: documents.pdf, the engine the platform uses;
- fpdf2: the same layout in fpdf2 (the platform's engine before), kept here to show why it lost:
  fpdf2 parses the whole TrueType font for every document.
Prints its figures; asserts nothing.
"""

import argparse
import time
from collections.abc import Callable
from importlib import resources

import facturx
from fpdf import FPDF

from contracts.messages.bounds import MAX_LINES
from contracts.messages.common import InvoiceSnapshot, Issuer
from documents import locale, render_document
from documents.cii import document_xml
from documents.document import LEVEL
from documents.model import document_of, issue_date, vat_breakdown
from documents.pdf import _register_fonts, _wrap
from documents.texts import document_texts
from documents.user_text import address_lines, one_line
from tests.unit.documents.samples import invoice

FONTS = resources.files("documents") / "fonts"


def fpdf2_document(snapshot: InvoiceSnapshot, issuer: Issuer, language: str) -> bytes:
    texts = document_texts(language)
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_page()

    def line(text: str, size: float = 10, style: str = "", align: str = "L") -> None:
        pdf.set_font("DejaVu", style, size)
        pdf.cell(0, size * 0.5, text, align=align, new_x="LMARGIN", new_y="NEXT")

    def money(amount: int) -> str:
        return locale.money(amount, snapshot.currency, language)

    line(one_line(issuer.company_name), 13, "B")
    for text in [*address_lines(issuer.address), issuer.email, f"{texts.tax_id} {issuer.tax_id}"]:
        line(text, 9)
    line(f"{texts.document_title} {snapshot.number}", 16, "B", "R")
    line(f"{texts.issue_date}: {locale.long_date(issue_date(snapshot), language)}", align="R")
    line(texts.bill_to, 9, "B")
    for text in [snapshot.customer.name, *address_lines(snapshot.customer.address)]:
        line(text)
    pdf.ln(6)
    pdf.set_font("DejaVu", "", 9)
    for item in snapshot.lines:
        pdf.cell(85, 5, item.description)
        pdf.cell(19, 5, locale.quantity(item.quantity, language), align="R")
        pdf.cell(24, 5, money(item.unit_amount), align="R")
        pdf.cell(15, 5, locale.percentage(item.tax_rate, language), align="R")
        pdf.cell(27, 5, money(item.amount), align="R", new_x="LMARGIN", new_y="NEXT")
    for group in vat_breakdown(snapshot.lines):
        label = texts.tax_at_rate.format(rate=locale.percentage(group.rate, language), basis=money(group.basis))
        line(f"{label} {money(group.tax)}", align="R")
    line(f"{texts.total} {money(snapshot.total)}", style="B", align="R")
    line(f"{texts.amount_outstanding} {money(snapshot.amount_remaining)}", style="B", align="R")
    line(f"{texts.iban}: {snapshot.payee_iban}")
    line(f"{texts.reference}: {snapshot.payment_reference}")
    return facturx.generate_from_binary(bytes(pdf.output()), document_xml(document_of(snapshot), issuer), flavor="factur-x",
                                        level=LEVEL, check_xsd=False)


ENGINES: dict[str, Callable[[InvoiceSnapshot, Issuer, str], bytes]] = {
    "reportlab": render_document,
    "fpdf2": fpdf2_document,
}


def sample() -> InvoiceSnapshot:
    line = {"description": "Beratung vor Ort", "quantity": "2", "unit_amount": 12000, "tax_rate": "20",
            "amount": 24000, "tax_amount": 4800}
    return invoice(lines=[line] * 5, subtotal=120000, tax=24000, total=144000, amount_paid=0, amount_due=144000,
                   amount_remaining=144000)


def measure(engine: Callable[[InvoiceSnapshot, Issuer, str], bytes], seconds: float) -> tuple[int, float, int]:
    snapshot = sample()
    size = len(engine(snapshot, snapshot.issuer, "de"))  # warm-up: fonts registered, Babel data loaded
    count, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        engine(snapshot, snapshot.issuer, "de")
        count += 1
    return count, time.process_time() - started, size


DESCRIPTIONS = {
    "latin": ("Wartung der Heizungsanlage einschließlich Anfahrt, Material und Prüfprotokoll " * 7)[:500],
    "cjk": ("软件开发与现场培训服务，包括需求分析、系统设计和后续维护。" * 20)[:500],
    "one word": ("Donaudampfschifffahrtsgesellschaft" * 15)[:500],
}


def sized(lines: int, description: str) -> InvoiceSnapshot:
    line = {"description": description, "quantity": "3", "unit_amount": 12000, "tax_rate": "19", "amount": 36000,
            "tax_amount": 6840}
    subtotal, tax = 36000 * lines, 6840 * lines
    snapshot = invoice(lines=[line], subtotal=subtotal, tax=tax, total=subtotal + tax, amount_paid=0,
                       amount_due=subtotal + tax, amount_remaining=subtotal + tax, memo=description)
    # Past MAX_LINES the contracts refuse such an invoice; the renderer is measured there all the same.
    return snapshot.model_copy(update={"lines": snapshot.lines * lines})


def render_seconds(snapshot: InvoiceSnapshot, runs: int) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(runs):
        started = time.process_time()
        size = len(render_document(snapshot, snapshot.issuer, "de"))
        best = min(best, time.process_time() - started)
    return best, size


def by_size(runs: int) -> None:
    render_document(sample(), sample().issuer, "de")  # warm-up: fonts registered, Babel data loaded
    for name, description in DESCRIPTIONS.items():
        for lines in (30, MAX_LINES, 500):
            seconds, size = render_seconds(sized(lines, description), runs)
            print(f"{lines:4d} lines, {name:8s}: {seconds:6.3f} s CPU, {size / 1024:5.0f} KiB")


def wrapping(runs: int) -> None:
    """Wrapping one text of 20,000 and of 80,000 characters: four times the text should take
    about four times as long (it took the square once: each candidate line measured again)."""
    _register_fonts()
    for unit in ("咨询服务与软件开发支持", "x", "Beratung vor Ort "):
        short, long = unit * (20000 // len(unit)), unit * (80000 // len(unit))
        times = []
        for text in (short, long):
            best = float("inf")
            for _ in range(runs):
                started = time.process_time()
                _wrap(text, 240.0, 9)
                best = min(best, time.process_time() - started)
            times.append(best)
        print(f"wrapping {unit[:8]!r:10}: 20k chars {times[0] * 1000:6.1f} ms, 80k chars {times[1] * 1000:6.1f} ms "
              f"(x{times[1] / times[0]:.1f} for x4 the text)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="renders per size; the best counts")
    parser.add_argument("--engines", action="store_true", help="also compare the PDF engines")
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per engine")
    args = parser.parse_args()
    by_size(args.runs)
    wrapping(max(args.runs, 5))
    if args.engines:
        for name, engine in ENGINES.items():
            count, spent, size = measure(engine, args.seconds)
            print(f"{name}: {count / spent:.1f} documents/s per core, {spent / count * 1000:.2f} ms per document, "
                  f"{size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
