"""Complete Factur-X invoice documents per second on one core, for two PDF engines.

    make bench-documents                  (or: .venv/bin/python -m bench.documents --seconds 10)

Each document is the whole thing the mailer attaches: the page drawn in DejaVu Sans with Babel's
formats, the CII XML built, and the factur-x library's step that embeds it and makes the file
PDF/A-3. The engines draw the same page (parties, 5 lines, VAT per rate, totals, payment details):
- reportlab: documents.pdf, the engine the platform uses;
- fpdf2: the same layout in fpdf2 (the platform's engine before), kept here to show why it lost:
  fpdf2 parses the whole TrueType font for every document.
Runs in this one process (one core), after one warm-up document per engine. Prints documents per
second and milliseconds per document; asserts nothing.
"""

import argparse
import time
from collections.abc import Callable
from importlib import resources

import facturx
from fpdf import FPDF

from contracts.messages.common import InvoiceSnapshot, Issuer
from documents import locale, render_invoice_document
from documents.cii import invoice_xml, issue_date, vat_breakdown
from documents.document import LEVEL
from documents.pdf import address_lines, one_line
from documents.texts import document_texts
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
    for rate, basis, tax in vat_breakdown(snapshot):
        line(f"{texts.tax_at_rate.format(rate=locale.percentage(rate, language), basis=money(basis))} {money(tax)}",
             align="R")
    line(f"{texts.total} {money(snapshot.total)}", style="B", align="R")
    line(f"{texts.amount_outstanding} {money(snapshot.amount_remaining)}", style="B", align="R")
    line(f"{texts.iban}: {snapshot.payee_iban}")
    line(f"{texts.reference}: {snapshot.payment_reference}")
    return facturx.generate_from_binary(bytes(pdf.output()), invoice_xml(snapshot, issuer), flavor="factur-x",
                                        level=LEVEL, check_xsd=False)


ENGINES: dict[str, Callable[[InvoiceSnapshot, Issuer, str], bytes]] = {
    "reportlab": render_invoice_document,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds per engine")
    args = parser.parse_args()
    for name, engine in ENGINES.items():
        count, spent, size = measure(engine, args.seconds)
        print(f"{name}: {count / spent:.1f} documents/s per core, {spent / count * 1000:.2f} ms per document, "
              f"{size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
