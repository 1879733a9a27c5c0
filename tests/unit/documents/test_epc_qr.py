"""The EPC069-12 transfer QR code (documents.epc_qr) on invoice snapshots, without the stack: when
it applies, what it asks for, and what a reader decodes from the rendered PDF page (decoded with
Debian's pdftoppm and zbarimg where they are installed; tests/integration/test_transfer_qr.py reads
one off a PDF from the read API of the real stack)."""

import pytest

from documents.document import render_document
from documents.epc_qr import TransferRequest, epc_qr, transfer_request
from documents.texts import BUILT_IN
from tests.unit.documents.qr_codes import epc_fields, needs_tools, qr_codes_in_image, qr_codes_on_first_page
from tests.unit.documents.samples import invoice
from tests.unit.documents.test_document import text_of

BIC = "BNPAFRPPXXX"


def test_an_open_invoice_asks_for_what_remains_to_its_payee_iban_bic_and_rf_reference():
    assert transfer_request(invoice(payee_bic=BIC)) == TransferRequest(
        payee="Électricité Łódź SARL", iban="FR7630006000011234567890189", bic=BIC, amount=128115,
        reference="RF18539007547034")
    assert transfer_request(invoice(status="uncollectible")).amount == 128115
    assert transfer_request(invoice()).bic is None  # version 002 makes the BIC optional


@pytest.mark.parametrize("changes", [
    {"status": "paid", "amount_paid": 148115, "amount_remaining": 0}, {"status": "void", "amount_remaining": 0},
    {"status": "draft", "number": None}, {"currency": "USD"}, {"payee_iban": None}, {"payment_reference": None},
    {"amount_remaining": 0}, {"amount_remaining": 100_000_000_000},
], ids=["paid", "void", "draft", "not euros", "no IBAN", "no reference", "nothing owed", "beyond the scheme"])
def test_no_code_where_nothing_is_owed_in_euros_to_a_known_account(changes):
    assert transfer_request(invoice(**changes)) is None


def test_a_payee_name_is_cut_to_the_schemes_70_characters():
    long = invoice(issuer={**invoice().issuer.model_dump(), "company_name": "Ä" * 69 + " Société"})
    assert transfer_request(long).payee == "Ä" * 69


def test_the_code_has_error_correction_m_as_the_scheme_asks():
    assert epc_qr(transfer_request(invoice(payee_bic=BIC))).error == "M"


def test_the_pdf_carries_a_code_that_decodes_to_every_field_of_the_transfer():
    needs_tools()
    snapshot = invoice(payee_bic=BIC)
    [payload] = qr_codes_on_first_page(render_document(snapshot, snapshot.issuer, "fr"))
    assert epc_fields(payload) == {
        "service_tag": "BCD", "version": "002", "charset": "1", "identification": "SCT", "bic": BIC,
        "name": "Électricité Łódź SARL", "iban": "FR7630006000011234567890189", "amount": "EUR1281.15",
        "purpose": "", "reference": "RF18539007547034", "text": "", "information": ""}


def test_a_partly_paid_invoice_asks_for_the_amount_remaining_and_a_settled_one_for_nothing():
    needs_tools()
    partly = invoice(amount_paid=100000, amount_remaining=48115)
    [payload] = qr_codes_on_first_page(render_document(partly, partly.issuer, "de"))
    assert (epc_fields(payload)["amount"], epc_fields(payload)["bic"]) == ("EUR481.15", "")
    for settled in (invoice(status="paid", amount_paid=148115, amount_remaining=0),
                    invoice(status="void", amount_remaining=0)):
        assert qr_codes_on_first_page(render_document(settled, settled.issuer, "en")) == []


@pytest.mark.parametrize("language", sorted(BUILT_IN))
def test_the_pdf_captions_the_code_in_the_documents_language_and_prints_the_bic_beside_the_iban(language):
    texts = BUILT_IN[language]
    text = text_of(render_document(invoice(payee_bic=BIC), invoice().issuer, language))
    assert texts.scan_to_pay in text and f"FR76 3000 6000 0112 3456 7890 189 BIC: {BIC}" in text
    paid = text_of(render_document(invoice(status="paid", amount_remaining=0, payee_bic=BIC), invoice().issuer,
                                   language))
    assert texts.scan_to_pay not in paid and BIC not in paid


@pytest.mark.parametrize("payee, amount, bic", [
    ("Acme Tooling GmbH", 147350, None), ("Électricité Łódź SARL", 1, BIC), ("東京電機株式会社", 99_999_999_999, None),
    ("O'Neil & Söhne KG", 100, "DEUTDEFF"),
], ids=["latin", "one cent", "beyond latin, the largest amount", "punctuation"])
def test_codes_made_with_the_one_fixed_mask_decode_to_what_they_ask(tmp_path, payee, amount, bic):
    # The mask segno would choose is not searched for (it cost most of a code): any mask must do.
    needs_tools()
    request = TransferRequest(payee=payee, iban="FR7630006000011234567890189", bic=bic, amount=amount,
                              reference="RF18539007547034")
    epc_qr(request).save(tmp_path / "code.png", scale=4)
    [payload] = qr_codes_in_image(tmp_path / "code.png")
    fields = epc_fields(payload)
    assert (fields["name"], fields["bic"], fields["charset"]) == (payee, bic or "", "1")
    assert fields["amount"] == "EUR" + f"{amount / 100:.2f}".rstrip("0").rstrip(".")


def test_a_transfer_beyond_the_schemes_331_bytes_is_refused():
    # 70 characters of four bytes each in UTF-8.
    request = TransferRequest(payee="\U00020b9f" * 70, iban="FR7630006000011234567890189", bic=BIC, amount=100,
                              reference="RF18539007547034")
    with pytest.raises(ValueError, match="331 bytes"):
        epc_qr(request)
