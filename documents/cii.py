"""An invoice or a credit note as UN/CEFACT Cross Industry Invoice XML, Factur-X profile EN 16931
(COMFORT), from the document model (documents.model).

It states what the PDF prints: number, issue and due dates, seller and buyer, lines, the VAT
breakdown per rate, totals, what was paid and what is owed, and the SEPA transfer details (IBAN,
RF reference). Rules of EN 16931 that shape it:
- a line's VAT category comes from contracts.tax, which finalization's rules use too (S above 0 %,
  Z at 0 %, or the category of the exemption the line names, stated with its VATEX code and text in
  the breakdown, BT-120 and BT-121);
- a credit note is type code 381 with positive amounts, names the invoice it corrects (BT-25, with
  its issue date BT-26) and asks for no payment: its amount due is its total, settled as its
  payment terms say (BR-CO-25 wants terms or a due date for an amount due);
- VAT per rate is the sum of the lines' rounded tax (the invoices service rounds per line), which the
  norm's rounding tolerance accepts; the totals are the snapshot's, never recomputed here;
- a party's tax id is its VAT identifier (BT-31, BT-48) when it has the form of one (contracts.tax),
  else a tax registration (BT-32): either one satisfies the rules for categories S, Z and E, while
  reverse charge and exports need VAT identifiers (finalization checks that);
- payment means 58 (SEPA credit transfer) with the payee IBAN when the invoice has one;
- what is due is the total less what was settled (BR-CO-16): payments, or the whole total for an
  invoice marked paid by hand. EN 16931 has no void invoice (a cancellation is a credit note), so a
  void invoice's XML is the invoice as issued, with a note that it is void; its PDF and hosted page
  say that nothing is owed.
Both parties need a country in their address for a valid e-invoice (BR-09, BR-11), which
finalization checks; data without one (a document rendered from a snapshot stored before) yields XML
that the validators reject, not a guessed country.
User text is written as documents.user_text reads it: the control characters XML 1.0 cannot carry
become spaces, as in the PDF.
"""

from datetime import date
from decimal import Decimal

from lxml import etree

from contracts.messages.common import Address, Issuer
from contracts.tax import EXEMPTIONS, vat_category, vat_identifier
from documents.locale import major_units
from documents.model import Document, vat_breakdown
from documents.user_text import one_line, paragraphs

PROFILE = "urn:cen.eu:en16931:2017"
_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": _RSM, "ram": _RAM, "udt": _UDT, "qdt": _QDT}
SEPA_CREDIT_TRANSFER = "58"
UNIT = "C62"  # UN/ECE Recommendation 20: "one", a unit of count


def _element(parent: etree._Element, namespace: str, name: str, text: str | None = None, **attributes: str):
    child = etree.SubElement(parent, f"{{{namespace}}}{name}", attributes)
    if text is not None:
        child.text = "\n".join(paragraphs(text))  # what XML cannot carry, as the PDF prints it
    return child


def _ram(parent, name: str, text: str | None = None, **attributes: str):
    return _element(parent, _RAM, name, text, **attributes)


def _date(parent, name: str, value: date) -> None:
    _element(_ram(parent, name), _UDT, "DateTimeString", value.strftime("%Y%m%d"), format="102")


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _party(parent, role: str, name: str, address: Address, email: str | None, tax_id: str) -> None:
    party = _ram(parent, role)
    _ram(party, "Name", one_line(name))
    postal = _ram(party, "PostalTradeAddress")
    for field, value in (("PostcodeCode", address.postal_code), ("LineOne", address.line1),
                         ("LineTwo", address.line2), ("CityName", address.city), ("CountryID", address.country)):
        if value:
            _ram(postal, field, one_line(value))
    if email:
        _ram(_ram(party, "URIUniversalCommunication"), "URIID", email, schemeID="EM")
    if tax_id:
        scheme = "VA" if vat_identifier(tax_id) else "FC"
        _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", one_line(tax_id), schemeID=scheme)


def document_xml(document: Document, issuer: Issuer) -> bytes:
    currency = document.currency

    def amount(minor: int) -> str:
        return str(major_units(minor, currency))

    root = etree.Element(f"{{{_RSM}}}CrossIndustryInvoice", nsmap=_NSMAP)
    context = _element(root, _RSM, "ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", PROFILE)

    exchanged = _element(root, _RSM, "ExchangedDocument")
    _ram(exchanged, "ID", document.number or document.id)
    _ram(exchanged, "TypeCode", document.type_code)
    _date(exchanged, "IssueDateTime", document.issued_on)
    if document.memo.strip():
        _ram(_ram(exchanged, "IncludedNote"), "Content", document.memo.strip())
    if document.status == "void":
        _ram(_ram(exchanged, "IncludedNote"), "Content", f"VOID: this invoice was voided on {document.voided_at:%Y-%m-%d}."
             if document.voided_at else "VOID: this invoice was voided.")

    transaction = _element(root, _RSM, "SupplyChainTradeTransaction")
    for index, line in enumerate(document.lines, start=1):
        item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
        _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", str(index))
        _ram(_ram(item, "SpecifiedTradeProduct"), "Name", line.description)
        agreement = _ram(item, "SpecifiedLineTradeAgreement")
        _ram(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", amount(line.unit_amount))
        _ram(_ram(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", _decimal(line.quantity), unitCode=UNIT)
        settlement = _ram(item, "SpecifiedLineTradeSettlement")
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "TypeCode", "VAT")
        _ram(tax, "CategoryCode", vat_category(line))
        _ram(tax, "RateApplicablePercent", _decimal(line.tax_rate))
        _ram(_ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation"), "LineTotalAmount", amount(line.amount))

    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    _party(agreement, "SellerTradeParty", issuer.company_name, issuer.address, issuer.email, issuer.tax_id)
    customer = document.customer
    _party(agreement, "BuyerTradeParty", customer.name, customer.address,
           customer.email[0] if customer.email else None, customer.tax_id)
    _ram(transaction, "ApplicableHeaderTradeDelivery")

    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    if document.payment_reference:
        _ram(settlement, "PaymentReference", document.payment_reference)
    _ram(settlement, "InvoiceCurrencyCode", currency)
    if document.payee_iban:
        means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _ram(means, "TypeCode", SEPA_CREDIT_TRANSFER)
        _ram(_ram(means, "PayeePartyCreditorFinancialAccount"), "IBANID", document.payee_iban)
    for group in vat_breakdown(document.lines):
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "CalculatedAmount", amount(group.tax))
        _ram(tax, "TypeCode", "VAT")
        if group.exemption:
            _ram(tax, "ExemptionReason", EXEMPTIONS[group.exemption][1])  # BT-120, with its code BT-121 below
        _ram(tax, "BasisAmount", amount(group.basis))
        _ram(tax, "CategoryCode", group.category)
        if group.exemption:
            _ram(tax, "ExemptionReasonCode", group.exemption)
        _ram(tax, "RateApplicablePercent", _decimal(group.rate))
    if document.due_date:
        _date(_ram(settlement, "SpecifiedTradePaymentTerms"), "DueDateDateTime", document.due_date)
    if document.credit is not None:
        _ram(_ram(settlement, "SpecifiedTradePaymentTerms"), "Description", _credit_terms(document, amount))
    totals = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(totals, "LineTotalAmount", amount(document.subtotal))
    _ram(totals, "TaxBasisTotalAmount", amount(document.subtotal))
    _ram(totals, "TaxTotalAmount", amount(document.tax), currencyID=currency)
    _ram(totals, "GrandTotalAmount", amount(document.total))
    _ram(totals, "TotalPrepaidAmount", amount(document.settled))
    _ram(totals, "DuePayableAmount", amount(document.total - document.settled))
    if document.corrects is not None:
        referenced = _ram(settlement, "InvoiceReferencedDocument")
        _ram(referenced, "IssuerAssignedID", document.corrects.number)
        _element(_ram(referenced, "FormattedIssueDateTime"), _QDT, "DateTimeString",
                 document.corrects.issued_on.strftime("%Y%m%d"), format="102")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _credit_terms(document: Document, amount) -> str:
    """How a credit note is settled (BT-20), in English like the XML's other notes."""
    credit = document.credit
    return (f"Credits invoice {document.corrects.number}: {amount(credit.against_invoice)} set against what it owes, "
            f"{amount(credit.refund)} refunded, {amount(credit.customer_balance)} credited to the customer's balance.")
