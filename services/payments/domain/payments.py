"""A payment: money counted towards an invoice, recorded by hand or made by a bank transaction.

Ids are scoped by account: tenants choose manual payment ids and banks choose the transaction ids
automatic payments are named after, so ids of different tenants may coincide.

Removal marks a payment instead of deleting it: payment ids are never reused for another
payment, and the payment keeps what was removed and why. The one exception is a bank
transaction's payment: applying the transaction again after its payment was removed makes that
payment count again, for the invoice it is applied to.
"""

from datetime import date

from chassis.aggregate import Aggregate
from contracts.messages.payments import PaymentMatched, PaymentRemoved, RecordPayment
from services.payments.domain.model import PaymentMatch, PaymentRefused

# What the payer paid and how; the rest is the payment's life in payments.
_TERMS = ("invoice_id", "amount", "currency", "paid_on", "method", "match", "transaction_id", "note")


class Payment(Aggregate):
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
    removed: bool = False
    removal_reason: str | None = None

    @staticmethod
    def key(account_id: str, payment_id: str) -> str:
        return f"{account_id}/{payment_id}"

    @classmethod
    def recorded(cls, account_id: str, command: RecordPayment) -> "Payment":
        """A payment received outside the bank feed, entered by hand."""
        payment = cls(id=cls.key(account_id, command.payment_id), account_id=account_id, match="manual",
                      **command.model_dump())
        payment.record(payment.matched())
        return payment

    @property
    def counts(self) -> bool:
        return not self.removed

    def same_as(self, other: "Payment") -> bool:
        return all(getattr(self, name) == getattr(other, name) for name in _TERMS)

    def matched(self) -> PaymentMatched:
        return PaymentMatched.model_validate(self, from_attributes=True)

    def remove(self, reason: str) -> None:
        if self.removed:
            raise PaymentRefused("payment_already_removed", "The payment was removed already.")
        self.removed, self.removal_reason = True, reason
        self.record(PaymentRemoved(invoice_id=self.invoice_id, payment_id=self.payment_id, amount=self.amount,
                                   currency=self.currency, reason=reason))

    def move_to(self, invoice_id: str) -> bool:
        """The invoice it paid was replaced by a revision (invoice.revised): it pays the revision
        now, announced like a new payment. False when it pays that invoice already, or was removed."""
        if self.invoice_id == invoice_id or self.removed:
            return False
        self.invoice_id = invoice_id
        self.record(self.matched())
        return True

    def count_again(self, payment: "Payment") -> None:
        """A bank transaction's payment made anew: the transaction announces it, not the payment."""
        for name in _TERMS:
            setattr(self, name, getattr(payment, name))
        self.removed, self.removal_reason = False, None
