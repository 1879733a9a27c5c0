"""Transfers on their way to an open invoice: announced by the bank (payment.pending), not booked
yet (docs/design.md, "Payment pending"). Pure: no I/O, no clock.

The invoice shows a payment pending while it has one. Each ends in one of three ways: the booked
transfer counts (a payment naming its bank transaction, or a bank transfer of its amount: banks
often give the booking another reference than the notice), nothing remains to pay (the invoice
leaves open), or it expires (the invoice clock runs at its `expires_at`).
"""

from datetime import date, datetime

from pydantic import BaseModel

from contracts.messages.payments import PaymentPending


class PendingPayment(BaseModel):
    transaction_id: str
    amount: int
    value_date: date | None = None
    announced_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, event: PaymentPending, now: datetime) -> "PendingPayment":
        return cls(transaction_id=event.transaction_id, amount=event.amount, value_date=event.value_date,
                   announced_at=now, expires_at=event.expires_at)


def cleared_by(pending: list[PendingPayment], transaction_id: str | None, amount: int, method: str
               ) -> list[PendingPayment]:
    """The pending transfers a payment that now counts is the booking of: the one of its bank
    transaction, else the first bank transfer announced for the same amount."""
    same = [p for p in pending if transaction_id is not None and p.transaction_id == transaction_id]
    if same or method != "bank_transfer":
        return same
    return [p for p in pending if p.amount == amount][:1]


def expired(pending: list[PendingPayment], now: datetime) -> list[PendingPayment]:
    return [p for p in pending if p.expires_at <= now]


def next_expiry(pending: list[PendingPayment]) -> datetime | None:
    return min((p.expires_at for p in pending), default=None)
