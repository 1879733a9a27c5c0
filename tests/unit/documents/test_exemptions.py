"""A line that names why it bears no VAT (a VATEX code) is stated in its own VAT category, with the
code and its text in the VAT breakdown, and the page says why no VAT is charged."""

import pytest

from documents import render_document
from tests.unit.documents.samples import exempt_invoice
from tests.unit.documents.test_document import NS, embedded_xml, text_of


@pytest.mark.parametrize(("exemption", "category", "reason", "printed"), [
    ("VATEX-EU-AE", "AE", "Reverse charge", "USt. 0 % auf 1.200,00 € (Steuerschuldnerschaft des Leistungsempfängers)"),
    ("VATEX-EU-G", "G", "Export outside the EU", "USt. 0 % auf 1.200,00 € (steuerfreie Ausfuhr)"),
    ("VATEX-EU-132", "E", "Exempt based on article 132 of Council Directive 2006/112/EC",
     "USt. 0 % auf 1.200,00 € (steuerfrei)"),
])
def test_an_exempt_line_has_its_category_code_and_reason(exemption, category, reason, printed):
    snapshot = exempt_invoice(exemption)
    pdf = render_document(snapshot, snapshot.issuer, "de")
    assert printed in text_of(pdf) and "USt. 5,5 % auf 39,00 €" in text_of(pdf)
    root = embedded_xml(pdf)
    assert [code.text for code in root.xpath("//ram:SpecifiedLineTradeSettlement//ram:CategoryCode", namespaces=NS)] == [
        category, "S"]
    [exempt] = root.xpath(f"//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax[ram:CategoryCode='{category}']",
                          namespaces=NS)
    assert exempt.xpath("string(ram:ExemptionReason)", namespaces=NS) == reason
    assert exempt.xpath("string(ram:ExemptionReasonCode)", namespaces=NS) == exemption
    assert exempt.xpath("string(ram:BasisAmount)", namespaces=NS) == "1200.00"
    assert exempt.xpath("string(ram:CalculatedAmount)", namespaces=NS) == "0.00"
