"""The documents the platform sends, judged by an independent validator: every one must be valid
PDF/A-3 and valid EN 16931 (Factur-X profile EN 16931), in each language and state, invoices and
credit notes alike."""

import pytest

from contracts.messages.bounds import MAX_LINES
from documents import render_document
from tests.documents import mustang
from tests.unit.documents.samples import (
    CHOSEN_LINE,
    SPREAD_AMOUNT,
    as_stored_before_bounds,
    credit_note,
    exempt_invoice,
    invoice,
)

pytestmark = pytest.mark.integration

LONG_LINE = {"description": "Wartung " * 30, "quantity": "1", "unit_amount": 1000, "tax_rate": "19",
             "amount": 1000, "tax_amount": 190}
CASES = {
    "de-open-two-rates": (invoice(), "de"),
    "fr-paid": (invoice(status="paid", amount_paid=148115, amount_remaining=0), "fr"),
    "en-void-cjk-name": (invoice(status="void", amount_remaining=0,
                                 customer={"name": "東京株式会社 김민준", "address": {"country": "JP"}}), "en"),
    "de-paid-by-hand": (invoice(status="paid", amount_paid=0, amount_remaining=0), "de"),
    "it-multi-page": (invoice(lines=[LONG_LINE] * 40, subtotal=40000, tax=7600, total=47600, amount_paid=0,
                              amount_due=47600, amount_remaining=47600), "it"),
    "es-zero-rated-no-iban": (invoice(lines=[{**LONG_LINE, "tax_rate": "0", "tax_amount": 0}], subtotal=1000,
                                      tax=0, total=1000, amount_paid=0, amount_due=1000, amount_remaining=1000,
                                      payee_iban=None, payment_reference=None), "es"),
    # The most lines an invoice may have, at the longest description, in Chinese (wrapped between
    # ideographs), over some 65 pages.
    "en-most-lines-cjk": (invoice(lines=[{**LONG_LINE, "description": "软件开发与现场培训服务，包括需求分析和系统维护。" * 20}] * MAX_LINES,
                                  subtotal=1000 * MAX_LINES, tax=190 * MAX_LINES, total=1190 * MAX_LINES, amount_paid=0,
                                  amount_due=1190 * MAX_LINES, amount_remaining=1190 * MAX_LINES), "en"),
    # Control characters in user text (stored before the contracts refused them): spaces in PDF and XML.
    "de-control-characters": (as_stored_before_bounds(customer={"name": "Acme\x00\x1b Ltd\x7f", "address": {"country": "DE"}},
                                      memo="Danke\x0b\x01\nZeile\x85zwei"), "de"),
    # Credit notes (type 381): the whole invoice, chosen lines, an amount spread over two VAT rates.
    "de-credit-note-whole": (credit_note(), "de"),
    "fr-credit-note-chosen-line": (credit_note(**CHOSEN_LINE), "fr"),
    "en-credit-note-amount-over-two-rates": (credit_note(**SPREAD_AMOUNT), "en"),
    # A revision: the invoice it replaces as preceding invoice (BT-25, BT-26).
    "de-revision": (invoice(revision_of="inv_0", replaces={"number": "INV-2026-00007", "issued_on": "2026-10-01"}),
                    "de"),
    # Lines that name why they bear no VAT: reverse charge (the buyer has a VAT id), an export, an exemption.
    "de-reverse-charge": (exempt_invoice("VATEX-EU-AE"), "de"),
    "en-export": (exempt_invoice("VATEX-EU-G"), "en"),
    "fr-exempt": (exempt_invoice("VATEX-EU-132"), "fr"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("documents")
    files = []
    for name, (snapshot, language) in CASES.items():
        path = folder / f"{name}.pdf"
        path.write_bytes(render_document(snapshot, snapshot.issuer, language))
        files.append(path)
    by_file = mustang.validate(files)
    return {name: by_file[str(folder / f"{name}.pdf")] for name in CASES}


@pytest.mark.parametrize("case", CASES)
def test_mustang_finds_the_document_valid_pdf_a_3_and_en_16931(reports, case):
    report = reports[case]
    assert mustang.errors(report) == []
    assert "flavour=3b" in report and "isCompliant=true" in report  # veraPDF: PDF/A-3b
    assert mustang.summaries(report) == ["valid", "valid", "valid"]  # PDF, XML, overall
