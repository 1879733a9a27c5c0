"""A pending credit: a transfer the bank announced and has not booked yet (bank_transaction.pending).
Pure: no I/O, no clock.

It is matched by the rules of a booked transfer (matching.match_transaction: the payee IBAN and the
invoice named in the remittance text) and, matched, announces `payment.pending` for the invoice.
No money counts: the booking comes as a bank_transaction.received of its own, matched and counted
as every transfer. Nothing of it is kept either: an unmatched pending credit is not queued (a
person could apply nothing before the money is booked, and the booking goes to the unmatched queue
if it is unmatched too), and one matched twice is announced twice, which the invoice takes once.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from contracts.messages.payments import BankTransactionPending, PaymentPending
from services.payments.domain.matching import Match, NoMatch


@dataclass(frozen=True)
class PendingCredit:
    account_id: str
    announced: BankTransactionPending

    @property
    def iban(self) -> str:
        return self.announced.iban

    @property
    def currency(self) -> str:
        return self.announced.currency

    @property
    def remittance_information(self) -> str:
        return self.announced.remittance_information

    def expires_at(self, announced_at: datetime, days: int) -> datetime:
        """`days` after it was announced, or after its value date when the bank expects the money
        later than that: a transfer the bank has not booked by then is taken as not coming."""
        value_date = self.announced.value_date
        start = max(announced_at, datetime.combine(value_date, time(), tzinfo=UTC)) if value_date else announced_at
        return start + timedelta(days=days)

    def announcement(self, outcome: Match | NoMatch, announced_at: datetime, days: int) -> PaymentPending | None:
        """What the matching rules' `outcome` makes of it: `payment.pending` for the invoice they
        found, or None (unmatched, and so only counted)."""
        if not isinstance(outcome, Match):
            return None
        return PaymentPending(invoice_id=outcome.invoice.id, transaction_id=self.announced.transaction_id,
                              amount=self.announced.amount, currency=self.currency,
                              value_date=self.announced.value_date,
                              expires_at=self.expires_at(announced_at, days))
