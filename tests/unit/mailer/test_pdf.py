import io

import pypdf
import pytest

from services.mailer.adapters.pdf import latin1, render_invoice_pdf
from tests.unit.mailer.factories import invoice


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_document_states_parties_number_lines_totals_and_payment_details():
    snapshot = invoice(memo="Thank you for your business")
    text = text_of(render_invoice_pdf(snapshot, snapshot.issuer, "en"))

    for expected in [
        "Acme GmbH", "Globex AG", "Invoice INV-2025-00042", "2025-03-01", "2025-03-31",
        "Consulting", "2.5", "100.00 EUR", "8.1 %", "250.00 EUR",
        "Subtotal 250.00 EUR", "Tax 20.25 EUR", "Total 270.25 EUR", "Amount outstanding 270.25 EUR",
        "IBAN: CH93 0076 2011 6238 5295 7", "Payment reference: RF18 5390 0754 7034", "Thank you for your business",
    ]:
        assert expected in text
    assert "PAID" not in text and "VOID" not in text


@pytest.mark.parametrize(("status", "mark"), [("paid", "PAID"), ("void", "VOID")])
def test_paid_and_void_invoices_are_marked(status, mark):
    snapshot = invoice(status=status)
    assert mark in text_of(render_invoice_pdf(snapshot, snapshot.issuer, "en")).split("\n")


def test_labels_follow_the_language():
    snapshot = invoice(status="void")
    text = text_of(render_invoice_pdf(snapshot, snapshot.issuer, "de"))
    assert "Rechnung INV-2025-00042" in text and "STORNIERT" in text and "Gesamt 270.25 EUR" in text


def test_amounts_in_zero_and_three_decimal_currencies():
    lines = [{"description": "Widget", "quantity": "3", "unit_amount": 1500, "amount": 4500, "tax_amount": 0}]
    for currency, total in (("JPY", "4500 JPY"), ("KWD", "4.500 KWD")):
        snapshot = invoice(currency=currency, lines=lines, subtotal=4500, tax=0, total=4500, amount_due=4500)
        assert f"Total {total}" in text_of(render_invoice_pdf(snapshot, snapshot.issuer, "en"))


def test_text_outside_latin_1_does_not_crash_and_keeps_what_it_can():
    snapshot = invoice(
        customer={"name": "Łukasz Śliwiński 東京株式会社", "email": ["ap@globex.example"]},
        issuer={"company_name": "Ωmega € Ltd – Cyprus", "email": "billing@acme.example"},
        lines=[{"description": "Разработка — 開発 ✓", "quantity": "1", "unit_amount": 100, "amount": 100,
                "tax_amount": 0}],
        memo="Grüße 🙂",
    )
    text = text_of(render_invoice_pdf(snapshot, snapshot.issuer, "fr"))

    assert "?ukasz Sliwinski" in text
    assert "?mega EUR Ltd - Cyprus" in text
    assert "Grüße" in text
    assert "INV-2025-00042" in text


def test_transliteration():
    assert latin1("Zürich Łódź € “quoted” …") == 'Zürich ?ódz EUR "quoted" ...'


def test_header_like_names_stay_on_one_line():
    snapshot = invoice(customer={"name": "Globex\r\nInjected", "email": ["ap@globex.example"]})
    assert "Globex Injected" in text_of(render_invoice_pdf(snapshot, snapshot.issuer, "en"))


def test_a_partly_paid_invoice_states_total_paid_and_what_is_still_owed():
    snapshot = invoice(amount_paid=10000, amount_remaining=17025)
    lines = text_of(render_invoice_pdf(snapshot, snapshot.issuer, "en")).split("\n")

    assert "Total 270.25 EUR" in lines
    assert "Amount paid 100.00 EUR" in lines
    assert "Amount outstanding 170.25 EUR" in lines


def test_a_long_table_wraps_long_descriptions_and_repeats_its_heading_on_each_page():
    lines = [{"description": f"Item {number}", "quantity": "1", "unit_amount": 100, "amount": 100, "tax_amount": 0}
             for number in range(60)]
    lines[1]["description"] = "Maintenance of the customer's whole fleet of machines, including spare parts and travel"
    snapshot = invoice(lines=lines, subtotal=6000, tax=0, total=6000, amount_due=6000, amount_remaining=6000)
    reader = pypdf.PdfReader(io.BytesIO(render_invoice_pdf(snapshot, snapshot.issuer, "en")))
    pages = [page.extract_text() for page in reader.pages]

    assert len(pages) > 1
    assert all("Description Qty Unit price Tax Amount" in page for page in pages)
    text = "\n".join(pages)
    assert all(f"Item {number} 1 1.00 EUR" in text for number in (0, *range(2, 60)))
    assert "Maintenance of the customer's whole fleet" in text and "spare parts and travel" in text
