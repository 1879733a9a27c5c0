"""What payments knows of invoices (as their owner last described them), and the rules a payment
must pass before it counts towards an invoice. Pure: no I/O.
"""

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


class PaymentRefused(Refusal):
    """A payment rule refuses the command."""


def check_payable(invoice: InvoiceView | None, account_id: str, currency: str) -> InvoiceView:
    """The invoice a payment by `account_id` in `currency` may count towards, or a refusal."""
    # Another account's invoice answers exactly as one that does not exist (ids are per account,
    # and the read model is looked up by the account; this only guards that key).
    if invoice is None or invoice.account_id != account_id:
        raise PaymentRefused("unknown_invoice", "The account has no invoice with this id.")
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

