import io
from decimal import Decimal

import facturx
import pypdf
import pytest
from lxml import etree

from documents import render_document
from documents.cii import document_xml
from documents.model import document_of
from tests.unit.documents.samples import HOSTILE_MEMO, invoice

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"}


def text_of(pdf: bytes) -> str:
    """The document's words, one space apart: a label and its right-aligned figure come out of the
    PDF as separate lines, and CLDR's no-break spaces (in "1 481,15 €", "20 %") read as spaces."""
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def embedded_xml(pdf: bytes) -> etree._Element:
    name, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)  # raises when the XSD refuses it
    assert name == "factur-x.xml"
    return etree.fromstring(xml)


def test_the_german_document_prints_parties_lines_vat_per_rate_totals_and_payment_details():
    snapshot = invoice()
    text = text_of(render_document(snapshot, snapshot.issuer, "de"))
    for expected in [
        "Rechnung F-2026-00042", "Électricité Łódź SARL", "USt-IdNr. FR40303265045", "Дмитрий Šťastný GmbH",
        "Hauptstraße 5", "Rechnungsdatum: 01.10.2026", "Fällig am: 31.10.2026", "Beratung vor Ort", "1.200,00 €",
        "USt. 20 % auf 1.200,00 €", "240,00 €", "USt. 5,5 % auf 39,00 €", "2,15 €", "Gesamt 1.481,15 €",
        "Bezahlt -200,00 €", "Offener Betrag 1.281,15 €", "IBAN: FR76 3000 6000 0112 3456 7890 189",
        "Zahlungsreferenz: RF18 5390 0754 7034",
    ]:
        assert expected in text, expected
    assert "BEZAHLT" not in text and "STORNIERT" not in text


@pytest.mark.parametrize(("language", "total", "due"), [
    ("en", "Total €1,481.15", "Due date: Oct 31, 2026"),
    ("fr", "Total TTC 1 481,15 €", "Échéance: 31 oct. 2026"),
    ("it", "Totale 1.481,15 €", "Scadenza: 31 ott 2026"),
    ("es", "Total 1.481,15 €", "Vencimiento: 31 oct 2026"),
])
def test_numbers_dates_and_amounts_follow_the_customers_language(language, total, due):
    snapshot = invoice()
    text = text_of(render_document(snapshot, snapshot.issuer, language))
    assert total in text and due in text


@pytest.mark.parametrize(("status", "language", "mark"), [("paid", "en", "PAID"), ("void", "fr", "ANNULÉE")])
def test_paid_and_void_invoices_carry_a_visible_mark_and_invite_no_payment(status, language, mark):
    snapshot = invoice(status=status, amount_remaining=0)
    text = text_of(render_document(snapshot, snapshot.issuer, language))
    assert f" {mark} " in text
    assert "FR76" not in text and "RF18" not in text


def test_user_text_is_printed_as_typed_never_interpreted():
    snapshot = invoice()
    text = text_of(render_document(snapshot, snapshot.issuer, "en"))
    assert " ".join(HOSTILE_MEMO.split()) in text
    assert b"<script>" not in document_xml(document_of(snapshot), snapshot.issuer)  # escaped by the XML writer


def test_the_embedded_xml_states_what_the_pdf_prints():
    snapshot = invoice()
    root = embedded_xml(render_document(snapshot, snapshot.issuer, "de"))

    def value(path: str) -> str:
        return root.xpath(f"string({path})", namespaces=NS)

    assert value("//rsm:ExchangedDocumentContext//ram:ID") == "urn:cen.eu:en16931:2017"
    assert value("//rsm:ExchangedDocument/ram:ID") == "F-2026-00042"
    assert value("//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20261001"
    assert value("//ram:SellerTradeParty/ram:Name") == "Électricité Łódź SARL"
    assert value("//ram:SellerTradeParty//ram:ID[@schemeID='VA']") == "FR40303265045"
    assert value("//ram:BuyerTradeParty/ram:Name") == "Дмитрий Šťastný GmbH"
    assert value("//ram:BuyerTradeParty//ram:CountryID") == "DE"
    assert value("//ram:DueDateDateTime/udt:DateTimeString") == "20261031"
    assert value("//ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "FR7630006000011234567890189"
    assert value("//ram:ApplicableHeaderTradeSettlement/ram:PaymentReference") == "RF18539007547034"
    breakdown = [(Decimal(tax.xpath("string(ram:RateApplicablePercent)", namespaces=NS)),
                  tax.xpath("string(ram:BasisAmount)", namespaces=NS), tax.xpath("string(ram:CalculatedAmount)", namespaces=NS))
                 for tax in root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)]
    assert breakdown == [(Decimal(20), "1200.00", "240.00"), (Decimal("5.5"), "39.00", "2.15")]
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert [value(summation + name) for name in ("LineTotalAmount", "TaxTotalAmount", "GrandTotalAmount",
                                                 "TotalPrepaidAmount", "DuePayableAmount")] == [
        "1239.00", "242.15", "1481.15", "200.00", "1281.15"]
    assert value("//ram:IncludedNote/ram:Content") == HOSTILE_MEMO


def test_zero_rated_lines_and_zero_decimal_currencies_stay_valid():
    lines = [{"description": "Export", "quantity": "3", "unit_amount": 1500, "tax_rate": "0", "amount": 4500,
              "tax_amount": 0}]
    snapshot = invoice(currency="JPY", lines=lines, subtotal=4500, tax=0, total=4500, amount_paid=0,
                       amount_due=4500, amount_remaining=4500)
    pdf = render_document(snapshot, snapshot.issuer, "en")
    assert "Total ¥4,500" in text_of(pdf)
    root = embedded_xml(pdf)
    assert root.xpath("string(//ram:ApplicableHeaderTradeSettlement//ram:CategoryCode)", namespaces=NS) == "Z"


def test_a_long_invoice_runs_over_pages_with_the_table_heading_on_each():
    line = {"description": "Wartung " * 30, "quantity": "1", "unit_amount": 1000, "tax_rate": "19",
            "amount": 1000, "tax_amount": 190}
    snapshot = invoice(lines=[line] * 40, subtotal=40000, tax=7600, total=47600, amount_paid=0, amount_due=47600,
                       amount_remaining=47600)
    pdf = render_document(snapshot, snapshot.issuer, "de")
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 2
    assert all("Beschreibung" in page.extract_text() for page in pages[:-1])
    assert "Offener Betrag 476,00 €" in text_of(pdf)


@pytest.mark.parametrize(("changes", "prepaid", "due"), [
    ({"status": "paid", "amount_paid": 0, "amount_remaining": 0}, "1481.15", "0.00"),  # marked paid by hand
    ({"status": "paid", "amount_paid": 150000, "amount_remaining": 0}, "1481.15", "0.00"),  # overpaid
    ({"status": "void", "amount_remaining": 0}, "200.00", "1281.15"),  # the invoice as issued, noted void
])
def test_the_xml_amount_due_is_the_total_less_what_was_settled(changes, prepaid, due):
    snapshot = invoice(**changes)
    root = etree.fromstring(document_xml(document_of(snapshot), snapshot.issuer))
    summation = "string(//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{})"
    assert root.xpath(summation.format("TotalPrepaidAmount"), namespaces=NS) == prepaid
    assert root.xpath(summation.format("DuePayableAmount"), namespaces=NS) == due
    void_noted = any(note.startswith("VOID") for note in root.xpath("//ram:IncludedNote/ram:Content/text()", namespaces=NS))
    assert void_noted == (snapshot.status == "void")


def test_names_in_chinese_japanese_and_korean_print_in_the_fallback_font():
    name = "東京株式会社 김민준 Łukasz"
    snapshot = invoice(customer={"name": name, "address": {"country": "JP"}, "language": "en"})
    pdf = render_document(snapshot, snapshot.issuer, "en")
    assert name in text_of(pdf)
    fonts = {str(font["/BaseFont"]) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
             for font in page["/Resources"]["/Font"].values()}
    assert any("DroidSansFallback" in font for font in fonts) and any("DejaVuSans" in font for font in fonts)
