"""Reconciliation: what a bank transaction's fate does to the payments it makes. Pure: no I/O.

A transaction and each payment it makes are aggregates of their own (payments are kept per
invoice, transactions per bank id), so one change of them is several writes. The payments are the
parts of the change and are written first; the transaction is written last and carries its
announcements (`payment.matched` for each payment it makes, `payment.unmatched` when it goes to
the queue). A removal is the other way round: the payment removed announces `payment.removed`
and is written last, the transaction it puts back in the queue first.

Each function takes the aggregates as loaded, makes the change, and returns the payments to
write: new ones (version 0, never stored) and recorded ones made to count again. The ids of the
payments a transaction makes are fixed (BankTransaction.payment_ids), so a payment removed and
made again is the recorded one, counted again.
"""

from contracts.messages.payments import ApplyTransaction
from services.payments.domain.matching import Match, NoMatch
from services.payments.domain.model import InvoiceView
from services.payments.domain.payments import Payment
from services.payments.domain.transactions import BankTransaction


def receive(transaction: BankTransaction, outcome: Match | NoMatch, recorded: list[Payment]) -> list[Payment]:
    """A transaction's receipt: it pays the invoice the rules found, or goes to the unmatched queue."""
    transaction.reconcile(outcome)
    return _count(transaction, recorded)


def wake(transaction: BankTransaction, outcome: Match | NoMatch, recorded: list[Payment]) -> list[Payment]:
    """A waiting transaction meets an invoice it names: the rules decide again (BankTransaction.end_wait)."""
    transaction.end_wait(outcome)
    return _count(transaction, recorded)


def apply(transaction: BankTransaction, command: ApplyTransaction, invoices: list[InvoiceView | None],
          recorded: list[Payment], message_id: str) -> list[Payment]:
    """A person applies the transaction to an invoice or splits it, while none of its payments
    counts. Its payments that this very message counted before a crash are not in the way."""
    counting = any(payment.counts and not payment.changed_by(message_id) for payment in recorded)
    transaction.check_applicable(invoices, counting, command.split)
    transaction.apply_to(command.invoice_id, command.split)
    return _count(transaction, recorded)


def remove(payment: Payment, reason: str, transaction: BankTransaction | None, made: list[Payment]) -> None:
    """A payment stops counting. A bank transaction's goes back to the unmatched queue once none of
    the payments it made counts (for a split, at the removal of the last one that did), so a
    person can apply it again; `made` are those payments as stored."""
    payment.remove(reason)
    if transaction is not None and not any(other.counts for other in made if other.id != payment.id):
        transaction.back_to_queue()


def _count(transaction: BankTransaction, recorded: list[Payment]) -> list[Payment]:
    by_id = {payment.id: payment for payment in recorded}
    paid = []
    for payment in transaction.payments():
        if (stored := by_id.get(payment.id)) is not None:
            stored.count_again(payment)
            payment = stored
        paid.append(payment)
    return paid
