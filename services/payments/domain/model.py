"""What payments knows: invoices as their owner last described them, bank transactions and
payments, and the rules a payment must pass before it counts towards an invoice. Pure: no I/O.
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

from contracts.refusals import Refusal

# Payments count towards open invoices, and towards uncollectible ones
# (a late payment still settles the debt); drafts take none yet, paid and void invoices no more.
PAYABLE_STATUSES = frozenset({"open", "uncollectible"})

PaymentMatch = Literal["automatic", "applied", "manual"]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class InvoiceView(Value):
    """The part of an invoice snapshot that matching and payment rules need.

    Drafts are known too, without a number: a payment naming one is refused for what it is.
    """

    id: str
    account_id: str
    number: str | None
    status: str
    currency: str
    amount_remaining: int
    payee_iban: str | None = None
    payment_reference: str | None = None
    version: int

    @property
    def payable(self) -> bool:
        return self.status in PAYABLE_STATUSES


class BankTransaction(Value):
    """A credit on one of the account's bank accounts, as the bank reported it."""

    transaction_id: str
    account_id: str
    iban: str
    amount: int
    currency: str
    booked_on: date
    remittance_information: str = ""
    debtor_name: str = ""
    debtor_iban: str | None = None
    end_to_end_id: str = ""

    @property
    def payment_id(self) -> str:
        # A transaction settles at most one invoice at a time, so it names its payment; applying
        # it again after that payment was removed reuses the name.
        return f"bt-{self.transaction_id}"

    def payment(self, invoice_id: str, match: PaymentMatch) -> "Payment":
        return Payment(
            payment_id=self.payment_id,
            account_id=self.account_id,
            invoice_id=invoice_id,
            amount=self.amount,
            currency=self.currency,
            paid_on=self.booked_on,
            method="bank_transfer",
            match=match,
            transaction_id=self.transaction_id,
        )


class Payment(Value):
    payment_id: str
    account_id: str
    invoice_id: str
    amount: int
    currency: str
    paid_on: date
    method: str
    match: PaymentMatch
    transaction_id: str | None = None
    note: str = ""


class PaymentRefused(Refusal):
    """A payment rule refuses the command."""


def check_payable(invoice: InvoiceView | None, account_id: str, currency: str) -> InvoiceView:
    """The invoice a payment by `account_id` in `currency` may count towards, or a refusal."""
    if invoice is None:
        raise PaymentRefused("unknown_invoice", "The account has no invoice with this id.")
    if invoice.account_id != account_id:
        raise PaymentRefused("account_mismatch", "The invoice belongs to another account.")
    if not invoice.payable:
        raise PaymentRefused(
            "invoice_not_open",
            "A draft takes no payment until it is finalized."
            if invoice.status == "draft"
            else f"A {invoice.status} invoice takes no more payments.",
        )
    if invoice.currency != currency:
        raise PaymentRefused(
            "currency_mismatch", f"The invoice is in {invoice.currency}; the payment is in {currency}."
        )
    return invoice

