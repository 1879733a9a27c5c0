"""A bank transaction: a credit the bank reported, and which invoice, if any, it pays.

Banks issue the ids, so two tenants can receive the same one: the aggregate's id is scoped by
account, and one tenant's transaction is never taken for a duplicate of another's.

Its receipt runs the matching rules: it pays the invoice they find (an automatic payment), or it
goes to the unmatched queue with their reason, where a person may apply it to an invoice, or
split it over several invoices (one payment each, for the amount the person gives each). One
whose text named no invoice payments knew waits for one: it keeps the names its text may name an
invoice by, and the rules run again when an invoice by one of those names becomes known.
"""

from datetime import date

from pydantic import model_validator

from chassis.aggregate import Aggregate
from contracts.messages.payments import BankTransactionReceived, PaymentUnmatched, TransactionShare
from contracts.reasons import UnmatchedReason
from services.payments.domain.matching import AwaitingInvoice, Match, NoMatch, RemittanceReferences
from services.payments.domain.model import InvoiceView, PaymentMatch, PaymentRefused, check_payable
from services.payments.domain.payments import Payment


def invoice_names(account_id: str, names: frozenset[str]) -> list[str]:
    """Names as a waiting transaction is found by them: names only mean something within an account."""
    return sorted(f"{account_id}/{name}" for name in names)


class BankTransaction(Aggregate):
    id: str = ""
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
    invoice_id: str | None = None
    """The invoice the transaction pays, automatically or as a person applied it (the command's, for a split)."""
    split: list[TransactionShare] = []
    """The invoices a person split it over last, with their amounts; their payments are named after
    their positions (see payment_ids)."""
    match: PaymentMatch | None = None
    unmatched_reason: UnmatchedReason | None = None
    """Why the rules gave it to the unmatched queue, while no invoice takes it."""
    waiting_for: list[str] = []
    """While it waits for an invoice: the names it may name one by (see invoice_names)."""

    @model_validator(mode="after")
    def _scoped_id(self) -> "BankTransaction":
        self.id = self.id or self.key(self.account_id, self.transaction_id)
        return self

    @staticmethod
    def key(account_id: str, transaction_id: str) -> str:
        return f"{account_id}/{transaction_id}"

    @classmethod
    def received(cls, account_id: str, event: BankTransactionReceived) -> "BankTransaction":
        return cls(account_id=account_id, **event.model_dump())

    @property
    def payment_id(self) -> str:
        # A transaction settles one invoice, or the invoices of one split, at a time, so it names
        # its payments; applying it again after they were removed reuses the names.
        return f"bt-{self.transaction_id}"

    @property
    def payment_ids(self) -> list[str]:
        """Every payment it may have made: the whole, and each share of its last split."""
        return [self.payment_id, *(f"{self.payment_id}-{n}" for n in range(1, len(self.split) + 1))]

    @property
    def waiting(self) -> bool:
        return bool(self.waiting_for)

    def payment(self, invoice_id: str, match: PaymentMatch) -> Payment:
        """The payment it makes when it pays `invoice_id`."""
        return self._payment(self.payment_id, invoice_id, self.amount, match)

    def applied_payments(self, invoice_id: str, split: list[TransactionShare]) -> list[Payment]:
        """The payments a person applying it makes: the whole to `invoice_id`, or one per share of a
        split, for the amount the person gave that invoice."""
        if not split:
            return [self.payment(invoice_id, "applied")]
        return [
            self._payment(f"{self.payment_id}-{n}", share.invoice_id, share.amount, "applied")
            for n, share in enumerate(split, start=1)
        ]

    def _payment(self, payment_id: str, invoice_id: str, amount: int, match: PaymentMatch) -> Payment:
        return Payment(
            id=Payment.key(self.account_id, payment_id), payment_id=payment_id, account_id=self.account_id,
            invoice_id=invoice_id, amount=amount, currency=self.currency, paid_on=self.booked_on,
            method="bank_transfer", match=match, transaction_id=self.transaction_id,
        )

    def payments(self) -> list[Payment]:
        """The payments it makes while it pays: the whole to the invoice it was matched or applied
        to, or one per share of a split; none while it is in the unmatched queue."""
        if self.invoice_id is None:
            return []
        if self.match == "automatic":
            return [self.payment(self.invoice_id, "automatic")]
        return self.applied_payments(self.invoice_id, self.split)

    def payment_ids_with(self, split: list[TransactionShare]) -> list[str]:
        """Every payment it may have made, and those applying it with `split` makes."""
        return sorted({*self.payment_ids, *(payment.payment_id for payment in self.applied_payments("", split))})

    def reconcile(self, outcome: Match | NoMatch) -> None:
        """What the matching rules decided at its receipt."""
        if isinstance(outcome, Match):
            self._pays(outcome.invoice.id, "automatic")
            return
        self.unmatched_reason = outcome.reason
        if isinstance(outcome, AwaitingInvoice):
            self.waiting_for = invoice_names(self.account_id, RemittanceReferences.of(self.remittance_information).names)
        self.record(PaymentUnmatched.model_validate({**self.model_dump(), "reason": outcome.reason}))

    def end_wait(self, outcome: Match | NoMatch) -> bool:
        """The rules again, now that an invoice it names is known: it is matched, or stays unmatched
        for the reason they now give and waits for a person only. False when it still waits (the
        invoice was deleted meanwhile)."""
        if not self.waiting or isinstance(outcome, AwaitingInvoice):
            return False
        self.waiting_for = []
        self.reconcile(outcome)
        return True

    def check_applicable(
        self, invoices: list[InvoiceView | None], payments_count: bool, split: list[TransactionShare]
    ) -> None:
        """Whether a person may apply it to `invoices` (one, or those of a split): not while one of its
        payments counts towards an invoice, only to invoices that take a payment in its currency, and
        a split only for exactly its amount."""
        if payments_count:
            raise PaymentRefused("transaction_already_matched", f"The transaction pays {self.invoice_id} already.")
        for invoice in invoices:
            check_payable(invoice, self.account_id, self.currency)
        total = sum(share.amount for share in split)
        if split and total != self.amount:
            raise PaymentRefused(
                "split_mismatch", f"The split adds up to {total}; the transaction is {self.amount} {self.currency}."
            )

    def apply_to(self, invoice_id: str, split: list[TransactionShare]) -> None:
        """A person applies it to an invoice, or splits it over several (see check_applicable)."""
        self.waiting_for, self.split = [], list(split)
        self.invoice_id, self.match, self.unmatched_reason = invoice_id, "applied", None
        for payment in self.applied_payments(invoice_id, split):
            self.record(payment.matched())

    def back_to_queue(self) -> None:
        """None of its payments counts any more (each was removed): it pays nothing, and waits in
        the unmatched queue for a person to apply it again."""
        self.invoice_id, self.match, self.unmatched_reason = None, None, "payment_removed"
        self.record(PaymentUnmatched.model_validate({**self.model_dump(), "reason": "payment_removed"}))

    def _pays(self, invoice_id: str, match: PaymentMatch) -> None:
        self.invoice_id, self.match, self.unmatched_reason = invoice_id, match, None
        self.record(self.payment(invoice_id, match).matched())
