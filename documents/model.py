"""What a document states, whichever snapshot it is rendered from: an invoice (Factur-X type code
380) or a credit note (381). The PDF (documents.pdf) and the CII XML (documents.cii) are drawn from
this one model, so an invoice and a credit note share every line of their rendering and differ only
where the model says so: the title and type code, the invoice a credit note corrects (EN 16931
BT-25, BT-26), and what is settled or owed.

A credit note states its amounts positive, as EN 16931 wants for type 381: what is taken back.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from contracts.messages.common import Customer, InvoiceSnapshot, PrecedingInvoice, PricedLine
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.tax import VatCategory, vat_category
from documents.epc_qr import TransferRequest, transfer_request

DocumentKind = Literal["invoice", "credit_note"]
Source = InvoiceSnapshot | CreditNoteSnapshot
TYPE_CODES: dict[DocumentKind, str] = {"invoice": "380", "credit_note": "381"}  # UNTDID 1001


@dataclass(frozen=True)
class Credit:
    """Where a credit note's total went: off the invoice's amount owed, refunded, or to the
    customer's balance (the three add up to its total)."""

    against_invoice: int
    refund: int
    customer_balance: int


@dataclass(frozen=True)
class Document:
    kind: DocumentKind
    id: str
    number: str | None
    status: str
    currency: str
    customer: Customer
    lines: Sequence[PricedLine]
    subtotal: int
    tax: int
    total: int
    issued_on: date
    memo: str
    due_date: date | None = None
    amount_paid: int = 0
    amount_remaining: int = 0
    settled: int = 0  # what the XML states as prepaid (BT-113), so that its amount due (BT-115) is what is owed
    payee_iban: str | None = None
    payee_bic: str | None = None
    payment_reference: str | None = None
    transfer: TransferRequest | None = None  # what the transfer QR code asks for, while it applies
    voided_at: datetime | None = None
    corrects: PrecedingInvoice | None = None  # the invoice a credit note corrects, or a revision replaces
    credit: Credit | None = None

    @property
    def type_code(self) -> str:
        return TYPE_CODES[self.kind]


def document_of(source: Source) -> Document:
    if isinstance(source, CreditNoteSnapshot):
        return _credit_note(source)
    return _invoice(source)


def _invoice(invoice: InvoiceSnapshot) -> Document:
    return Document(
        kind="invoice", id=invoice.id, number=invoice.number, status=invoice.status, currency=invoice.currency,
        customer=invoice.customer, lines=invoice.lines, subtotal=invoice.subtotal, tax=invoice.tax,
        total=invoice.total, issued_on=issue_date(invoice), memo=invoice.memo, due_date=invoice.due_date,
        amount_paid=invoice.amount_paid, amount_remaining=invoice.amount_remaining, settled=_settled(invoice),
        payee_iban=invoice.payee_iban, payee_bic=invoice.payee_bic, payment_reference=invoice.payment_reference,
        transfer=transfer_request(invoice), voided_at=invoice.voided_at, corrects=invoice.replaces,
    )


def _credit_note(note: CreditNoteSnapshot) -> Document:
    # Nothing is paid for a credit note, and nothing is asked: no IBAN, reference or due date.
    return Document(
        kind="credit_note", id=note.id, number=note.number, status=note.status, currency=note.currency,
        customer=note.customer, lines=note.lines, subtotal=note.subtotal, tax=note.tax, total=note.total,
        issued_on=(note.issued_at or note.created_at).date(), memo=note.memo,
        corrects=PrecedingInvoice(number=note.invoice_number, issued_on=note.invoice_issued_on),
        credit=Credit(against_invoice=note.pre_payment_amount, refund=note.refund_amount,
                      customer_balance=note.customer_balance_amount),
    )


def issue_date(invoice: InvoiceSnapshot) -> date:
    return (invoice.finalized_at or invoice.created_at).date()


def _settled(invoice: InvoiceSnapshot) -> int:
    """Payments, or the whole total for an invoice marked paid by hand (BR-CO-16). EN 16931 has no
    void invoice, so a void one is stated as issued, less what was paid on it."""
    if invoice.status == "void":
        return min(invoice.amount_paid, invoice.total)
    return invoice.total - invoice.amount_remaining


@dataclass(frozen=True)
class VatGroup:
    """One line of the VAT breakdown (EN 16931 BG-23): the lines of one category, rate and exemption."""

    category: VatCategory
    rate: Decimal
    exemption: str | None
    basis: int
    tax: int


def vat_breakdown(lines: Sequence[PricedLine]) -> list[VatGroup]:
    """The VAT breakdown in minor units, highest rate first; the category is contracts.tax's."""
    basis: dict[tuple, int] = defaultdict(int)
    tax: dict[tuple, int] = defaultdict(int)
    for line in lines:
        key = (line.tax_rate.normalize(), vat_category(line), line.tax_exemption)
        basis[key] += line.amount
        tax[key] += line.tax_amount
    return [VatGroup(category=category, rate=rate, exemption=exemption, basis=basis[key], tax=tax[key])
            for key in sorted(basis, key=lambda key: (-key[0], key[1], key[2] or ""))
            for rate, category, exemption in [key]]
