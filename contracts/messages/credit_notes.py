"""Credit notes: the legal correction of a finalized invoice (avoir, Gutschrift; VAT Directive
art. 219). A finalized invoice is never edited or deleted to correct it; a credit note, numbered
in the account's own credit-note series, says what is taken back, and why.

A credit note belongs to the invoice it corrects: its commands and events are keyed by the
invoice's id, so the invoice and its credit notes have one writer, and the rule that the credited
total never exceeds what the invoice charged is checked in one place.
"""

from typing import Literal

from pydantic import Field, model_validator

from contracts import topics
from contracts.messages.base import Command, Event, Identifier, message_type
from contracts.messages.bounds import (
    MAX_LINES,
    Amount,
    AmountPaid,
    Day,
    Moment,
    Paragraph,
    PositiveAmount,
    Quantity,
    Version,
    bounded_list,
)
from contracts.messages.common import (
    CcAddresses,
    Customer,
    InvoiceNumber,
    Issuer,
    Language,
    PricedLine,
    ToAddresses,
    ValueModel,
)
from contracts.money import Currency

# Stripe's reasons, and "other" for what they do not name (the memo says it).
CreditNoteReason = Literal["duplicate", "fraudulent", "order_change", "product_unsatisfactory", "other"]
# What happens to the part of a credit note that exceeds what the invoice still owes (all of it on
# a paid invoice): paid back to the customer, or kept as the customer's balance for the next invoice.
CreditTo = Literal["refund", "customer_balance"]


class CreditedLine(ValueModel):
    """A line of the invoice taken back, whole or for some of its quantity."""

    line: int = Field(ge=0, le=MAX_LINES - 1, description="Position of the invoice's line, from 0")
    quantity: Quantity | None = Field(default=None, description="How much of the line's quantity; all of it if absent")


@message_type("credit_note.create", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class CreateCreditNote(Command):
    """Credit a finalized invoice: the whole of it (neither `lines` nor `amount`), chosen lines, or
    an amount (tax included, spread over the invoice's tax rates in proportion). Answered by
    `credit_note.issued` once it is numbered, or `invoice.command_rejected`."""

    invoice_id: Identifier = Field(description="The invoice corrected")
    credit_note_id: Identifier = Field(description="Chosen by the client, unique in the account among credit notes")
    lines: bounded_list(CreditedLine, MAX_LINES) = []  # type: ignore[valid-type]
    amount: PositiveAmount | None = None
    reason: CreditNoteReason = "other"
    memo: Paragraph = ""
    credit_to: CreditTo = "refund"

    @model_validator(mode="after")
    def _one_scope(self):
        if self.lines and self.amount is not None:
            raise ValueError("give either lines or amount, not both")
        return self


@message_type("credit_note.send", topic=topics.INVOICES_COMMANDS, key="invoice_id")
class SendCreditNote(Command):
    """Email an issued credit note to the customer (or to the addresses named), like an invoice."""

    invoice_id: Identifier
    credit_note_id: Identifier
    to: ToAddresses | None = None
    cc: CcAddresses | None = None
    language: Language | None = None


class CreditNoteSnapshot(ValueModel):
    """A credit note as issued: event-carried state for documents, mail and readers.

    Its lines are priced like an invoice's, as positive amounts (what is taken back); its total
    is split into what lowered the invoice's amount remaining and what went beyond it, refunded or
    kept as the customer's balance: `pre_payment_amount + refund_amount + customer_balance_amount
    == total`.
    """

    id: Identifier
    account_id: str = Field(min_length=1, max_length=200)
    invoice_id: Identifier
    invoice_number: InvoiceNumber = Field(description="The invoice corrected (EN 16931 BT-25)")
    invoice_issued_on: Day = Field(description="Its issue date (BT-26)")
    number: InvoiceNumber | None = Field(default=None, description="From the account's credit-note series; absent until issued")
    status: Literal["pending", "issued"]
    currency: Currency
    customer: Customer
    issuer: Issuer | None = None
    lines: bounded_list(PricedLine, MAX_LINES)  # type: ignore[valid-type]
    subtotal: AmountPaid
    tax: Amount
    total: AmountPaid
    pre_payment_amount: AmountPaid = Field(description="What it took off the invoice's amount remaining")
    refund_amount: AmountPaid = Field(description="Owed back to the customer")
    customer_balance_amount: AmountPaid = Field(description="Credited to the customer's balance")
    reason: CreditNoteReason
    memo: Paragraph = ""
    created_at: Moment
    issued_at: Moment | None = None
    version: Version


@message_type("credit_note.issued", topic=topics.INVOICES_EVENTS, key="invoice_id")
class CreditNoteIssued(Event):
    """A credit note has its number: it is a document of its own. The change it makes to the
    invoice it corrects is announced in the same commit by the invoice's own event, with the whole
    invoice: `invoice.updated` (a lower amount remaining), `invoice.paid` (credited to zero after a
    payment) or `invoice.voided` (credited whole before any payment); the two together would not
    fit a record at their largest."""

    invoice_id: Identifier
    credit_note: CreditNoteSnapshot
