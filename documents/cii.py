"""The invoice as UN/CEFACT Cross Industry Invoice XML, Factur-X profile EN 16931 (COMFORT).

It states what the PDF prints: number, issue and due dates, seller and buyer, lines, the VAT
breakdown per rate, totals, what was paid and what is owed, and the SEPA transfer details (IBAN,
RF reference). Rules of EN 16931 that shape it:
- a rate above 0 is VAT category S (standard), 0 % is Z (zero rated): the platform records rates,
  not exemption reasons, so it never claims an exemption (E) it cannot justify;
- VAT per rate is the sum of the lines' rounded tax (the invoices service rounds per line), which the
  norm's rounding tolerance accepts; the totals are the snapshot's, never recomputed here;
- the seller's tax id is its VAT identifier (BT-31) when it starts with a country prefix, else a tax
  registration (BT-32): either one satisfies the rules for categories S and Z;
- payment means 58 (SEPA credit transfer) with the payee IBAN when the invoice has one;
- what is due is the total less what was settled (BR-CO-16): payments, or the whole total for an
  invoice marked paid by hand. EN 16931 has no void invoice (a cancellation is a credit note, which
  the platform does not issue), so a void invoice's XML is the invoice as issued, with a note that it
  is void; its PDF and hosted page say that nothing is owed.
Both parties need a country in their address for a valid e-invoice (BR-09, BR-11); account and customer
data without one yield XML that the validators reject, not a guessed country.
User text is written as documents.user_text reads it: the control characters XML 1.0 cannot carry
become spaces, as in the PDF.
"""

import re
from collections import defaultdict
from datetime import date
from decimal import Decimal

from lxml import etree

from contracts.messages.common import Address, InvoiceSnapshot, Issuer
from documents.locale import major_units
from documents.user_text import one_line, paragraphs

PROFILE = "urn:cen.eu:en16931:2017"
_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_NSMAP = {"rsm": _RSM, "ram": _RAM, "udt": _UDT, "qdt": _QDT}
_VAT_ID = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$")
COMMERCIAL_INVOICE = "380"
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


def category(rate: Decimal) -> str:
    return "S" if rate > 0 else "Z"


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
        scheme = "VA" if _VAT_ID.match(tax_id.replace(" ", "").upper()) else "FC"
        _ram(_ram(party, "SpecifiedTaxRegistration"), "ID", one_line(tax_id), schemeID=scheme)


def vat_breakdown(invoice: InvoiceSnapshot) -> list[tuple[Decimal, int, int]]:
    """(rate, basis, tax) per VAT rate, in minor units, highest rate first."""
    basis: dict[Decimal, int] = defaultdict(int)
    tax: dict[Decimal, int] = defaultdict(int)
    for line in invoice.lines:
        rate = line.tax_rate.normalize()
        basis[rate] += line.amount
        tax[rate] += line.tax_amount
    return [(rate, basis[rate], tax[rate]) for rate in sorted(basis, reverse=True)]


def settled(invoice: InvoiceSnapshot) -> int:
    """What the XML states as prepaid (BT-113), so that the amount due (BT-115) is what is owed."""
    if invoice.status == "void":
        return min(invoice.amount_paid, invoice.total)
    return invoice.total - invoice.amount_remaining


def issue_date(invoice: InvoiceSnapshot) -> date:
    return (invoice.finalized_at or invoice.created_at).date()


def invoice_xml(invoice: InvoiceSnapshot, issuer: Issuer) -> bytes:
    currency = invoice.currency

    def amount(minor: int) -> str:
        return str(major_units(minor, currency))

    root = etree.Element(f"{{{_RSM}}}CrossIndustryInvoice", nsmap=_NSMAP)
    context = _element(root, _RSM, "ExchangedDocumentContext")
    _ram(_ram(context, "GuidelineSpecifiedDocumentContextParameter"), "ID", PROFILE)

    document = _element(root, _RSM, "ExchangedDocument")
    _ram(document, "ID", invoice.number or invoice.id)
    _ram(document, "TypeCode", COMMERCIAL_INVOICE)
    _date(document, "IssueDateTime", issue_date(invoice))
    if invoice.memo.strip():
        _ram(_ram(document, "IncludedNote"), "Content", invoice.memo.strip())
    if invoice.status == "void":
        _ram(_ram(document, "IncludedNote"), "Content", f"VOID: this invoice was voided on {invoice.voided_at:%Y-%m-%d}."
             if invoice.voided_at else "VOID: this invoice was voided.")

    transaction = _element(root, _RSM, "SupplyChainTradeTransaction")
    for index, line in enumerate(invoice.lines, start=1):
        item = _ram(transaction, "IncludedSupplyChainTradeLineItem")
        _ram(_ram(item, "AssociatedDocumentLineDocument"), "LineID", str(index))
        _ram(_ram(item, "SpecifiedTradeProduct"), "Name", line.description)
        agreement = _ram(item, "SpecifiedLineTradeAgreement")
        _ram(_ram(agreement, "NetPriceProductTradePrice"), "ChargeAmount", amount(line.unit_amount))
        _ram(_ram(item, "SpecifiedLineTradeDelivery"), "BilledQuantity", _decimal(line.quantity), unitCode=UNIT)
        settlement = _ram(item, "SpecifiedLineTradeSettlement")
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "TypeCode", "VAT")
        _ram(tax, "CategoryCode", category(line.tax_rate))
        _ram(tax, "RateApplicablePercent", _decimal(line.tax_rate))
        _ram(_ram(settlement, "SpecifiedTradeSettlementLineMonetarySummation"), "LineTotalAmount", amount(line.amount))

    agreement = _ram(transaction, "ApplicableHeaderTradeAgreement")
    _party(agreement, "SellerTradeParty", issuer.company_name, issuer.address, issuer.email, issuer.tax_id)
    customer = invoice.customer
    _party(agreement, "BuyerTradeParty", customer.name, customer.address,
           customer.email[0] if customer.email else None, customer.tax_id)
    _ram(transaction, "ApplicableHeaderTradeDelivery")

    settlement = _ram(transaction, "ApplicableHeaderTradeSettlement")
    if invoice.payment_reference:
        _ram(settlement, "PaymentReference", invoice.payment_reference)
    _ram(settlement, "InvoiceCurrencyCode", currency)
    if invoice.payee_iban:
        means = _ram(settlement, "SpecifiedTradeSettlementPaymentMeans")
        _ram(means, "TypeCode", SEPA_CREDIT_TRANSFER)
        _ram(_ram(means, "PayeePartyCreditorFinancialAccount"), "IBANID", invoice.payee_iban)
    for rate, basis, tax_amount in vat_breakdown(invoice):
        tax = _ram(settlement, "ApplicableTradeTax")
        _ram(tax, "CalculatedAmount", amount(tax_amount))
        _ram(tax, "TypeCode", "VAT")
        _ram(tax, "BasisAmount", amount(basis))
        _ram(tax, "CategoryCode", category(rate))
        _ram(tax, "RateApplicablePercent", _decimal(rate))
    if invoice.due_date:
        _date(_ram(settlement, "SpecifiedTradePaymentTerms"), "DueDateDateTime", invoice.due_date)
    totals = _ram(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation")
    _ram(totals, "LineTotalAmount", amount(invoice.subtotal))
    _ram(totals, "TaxBasisTotalAmount", amount(invoice.subtotal))
    _ram(totals, "TaxTotalAmount", amount(invoice.tax), currencyID=currency)
    _ram(totals, "GrandTotalAmount", amount(invoice.total))
    _ram(totals, "TotalPrepaidAmount", amount(settled(invoice)))
    _ram(totals, "DuePayableAmount", amount(invoice.total - settled(invoice)))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
