"""A credit note is a document of its own, rendered by the invoice's rendering: Factur-X type code
381 with positive amounts, naming the invoice it corrects (EN 16931 BT-25, BT-26), in the
customer's language, asking for no payment."""

import facturx
import pytest

from documents import render_document
from documents.texts import BUILT_IN
from tests.unit.documents.samples import CHOSEN_LINE, SPREAD_AMOUNT, credit_note, invoice
from tests.unit.documents.test_document import NS, embedded_xml, text_of


def test_the_german_credit_note_names_the_invoice_it_corrects_and_where_the_credit_went():
    note = credit_note()
    text = text_of(render_document(note, note.issuer, "de"))
    for expected in [
        "Gutschrift AV-2026-00007", "Gutschriftsdatum: 20.10.2026", "Korrigiert Rechnung F-2026-00042 vom 01.10.2026",
        "Дмитрий Šťastný GmbH", "Beratung vor Ort", "USt. 20 % auf 1.200,00 €", "Gesamt 1.481,15 €",
        "Mit der Rechnung verrechnet 1.281,15 €", "Wird Ihnen erstattet 200,00 €", "Commande annulée.",
    ]:
        assert expected in text, expected
    # It asks for nothing: no amount outstanding, no transfer details, no due date.
    for absent in ["Offener Betrag", "IBAN", "Zahlungsreferenz", "Fällig", "Rechnungsdatum", "Guthaben"]:
        assert absent not in text, absent


@pytest.mark.parametrize("language", sorted(BUILT_IN))
def test_every_language_of_the_invoice_texts_has_the_credit_note_title_and_its_reference(language):
    note = credit_note()
    texts = BUILT_IN[language]
    text = text_of(render_document(note, note.issuer, language))
    assert f"{texts.credit_note_title} AV-2026-00007" in text
    assert texts.corrects.split("{number}")[0].strip() + " F-2026-00042" in text
    assert texts.document_title + " AV-2026-00007" not in text


def test_the_xml_is_type_381_with_positive_amounts_and_the_corrected_invoice_as_preceding_reference():
    note = credit_note(**SPREAD_AMOUNT)
    pdf = render_document(note, note.issuer, "fr")
    root = embedded_xml(pdf)  # valid against the Factur-X EN 16931 XSD

    def value(path: str) -> str:
        return root.xpath(f"string({path})", namespaces=NS)

    assert value("//rsm:ExchangedDocument/ram:TypeCode") == "381"
    assert value("//rsm:ExchangedDocument/ram:ID") == "AV-2026-00007"
    assert value("//rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString") == "20261020"
    reference = "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument/ram:"
    assert value(reference + "IssuerAssignedID") == "F-2026-00042"
    assert value(reference + "FormattedIssueDateTime/*[local-name()='DateTimeString']") == "20261001"
    breakdown = [(tax.xpath("string(ram:RateApplicablePercent)", namespaces=NS),
                  tax.xpath("string(ram:BasisAmount)", namespaces=NS), tax.xpath("string(ram:CalculatedAmount)", namespaces=NS))
                 for tax in root.xpath("//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)]
    assert breakdown == [("20", "60.00", "12.00"), ("5.5", "20.00", "1.10")]
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    assert [value(summation + name) for name in ("LineTotalAmount", "TaxTotalAmount", "GrandTotalAmount",
                                                 "TotalPrepaidAmount", "DuePayableAmount")] == [
        "80.00", "13.10", "93.10", "0.00", "93.10"]
    assert "93.10 credited to the customer's balance" in value("//ram:SpecifiedTradePaymentTerms/ram:Description")
    assert root.xpath("//ram:PayeePartyCreditorFinancialAccount", namespaces=NS) == []
    # factur-x's own reading of the file: the flavor, the level and the XML by the XSD.
    assert facturx.get_flavor(root) == "factur-x" and facturx.get_level(root) == "en16931"
    assert facturx.xml_check_xsd(root, flavor="factur-x", level="en16931")


def test_chosen_lines_are_what_the_credit_note_lists():
    note = credit_note(**CHOSEN_LINE)
    text = text_of(render_document(note, note.issuer, "en"))
    assert "Fachbuch" in text and "Beratung vor Ort" not in text
    assert "Total €20.57" in text and "Deducted from the invoice €20.57" in text and "Refunded" not in text


def test_an_invoice_still_renders_as_type_380_through_the_same_rendering():
    note, source = credit_note(), invoice()
    assert embedded_xml(render_document(source, source.issuer, "en")).xpath(
        "string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "380"
    assert "Invoice F-2026-00042" in text_of(render_document(source, source.issuer, "en"))
    assert "Credit note AV-2026-00007" in text_of(render_document(note, note.issuer, "en"))


def test_a_revision_is_an_invoice_that_names_the_invoice_it_replaces_as_preceding_reference():
    revision = invoice(revision_of="inv_0", replaces={"number": "INV-2026-00007", "issued_on": "2026-10-01"})
    pdf = render_document(revision, revision.issuer, "de")
    root = embedded_xml(pdf)
    reference = "//ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument/ram:"
    assert root.xpath("string(//rsm:ExchangedDocument/ram:TypeCode)", namespaces=NS) == "380"
    assert root.xpath(f"string({reference}IssuerAssignedID)", namespaces=NS) == "INV-2026-00007"
    assert facturx.xml_check_xsd(root, flavor="factur-x", level="en16931")
    assert "Korrigiert Rechnung INV-2026-00007" in text_of(pdf)
    # An invoice that replaces none names none.
    assert embedded_xml(render_document(invoice(), invoice().issuer, "de")).xpath(
        "//ram:InvoiceReferencedDocument", namespaces=NS) == []
