"""A customer's balance in one currency (Stripe's customer credit balance; docs/design.md,
"Customer balance"). Pure: no I/O, no clock.

What the account owes the customer to spend on later invoices (`amount`), and the refunds its
credit notes owe them to pay out (`refunds_owed`, per credit note). Every change is a movement
with its source, and a source moves the balance once: a command delivered again, or the same
credit announced twice, finds its source among the movements and changes nothing.
"""

from datetime import datetime

from pydantic import Field

from chassis.aggregate import Aggregate
from contracts.messages.balances import (
    ApplyBalanceToInvoice,
    ApplyCustomerBalance,
    BalanceMovement,
    CreditCustomerBalance,
    CustomerBalanceChanged,
    MovementKind,
    RecordCustomerRefund,
)
from services.invoices.domain.errors import RuleViolation


class CustomerBalance(Aggregate):
    """Its id is its balance key, `<account>/<customer id>/<currency>`."""

    account_id: str
    customer_id: str
    currency: str
    amount: int = 0
    refunds_owed: dict[str, int] = Field(default_factory=dict, description="credit note id -> refund still owed")
    movements: list[BalanceMovement] = []

    @classmethod
    def empty(cls, key: str) -> "CustomerBalance":
        account_id, customer_id, currency = key.split("/")
        return cls(id=key, account_id=account_id, customer_id=customer_id, currency=currency)

    @property
    def refund_owed(self) -> int:
        return sum(self.refunds_owed.values())

    def moved_by(self, kind: MovementKind, source_id: str) -> BalanceMovement | None:
        return next((m for m in self.movements if m.kind == kind and m.source_id == source_id), None)

    def credit(self, command: CreditCustomerBalance, *, now: datetime, actor: str) -> bool:
        """Credit from one source. False when that source credited the balance before."""
        if self.moved_by(command.kind, command.source_id):
            return False
        credit_note_id = command.source_id if command.kind == "credit_note" else None
        if command.refund_owed:
            self.refunds_owed[command.source_id] = command.refund_owed
        self.amount += command.amount
        self._move(command.kind, command.amount, command.source_id, now=now, actor=actor,
                   invoice_id=command.invoice_id, credit_note_id=credit_note_id, refund_owed=command.refund_owed)
        return True

    def apply_to_invoice(self, command: ApplyCustomerBalance, *, now: datetime, actor: str) -> None:
        """Pay what it can of an invoice just finalized, and tell the invoice: min(balance, what it
        owes). One application per invoice."""
        if self.moved_by("invoice_payment", command.invoice_id):
            return
        taken = min(self.amount, command.amount)
        if taken == 0:
            raise RuleViolation("no_customer_balance", f"The customer's {self.currency} balance holds nothing.")
        self.amount -= taken
        movement = self._move("invoice_payment", taken, command.invoice_id, now=now, actor=actor,
                              invoice_id=command.invoice_id)
        self.record(ApplyBalanceToInvoice(invoice_id=command.invoice_id, balance_key=self.id,
                                          movement_id=movement.id, amount=taken))

    def record_refund(self, command: RecordCustomerRefund, *, now: datetime, actor: str) -> None:
        """A refund paid out: from a credit note's refund owed when it names one, else from the
        balance; never below zero."""
        recorded = self.moved_by("refund", command.reference)
        if recorded is not None:
            # Paid from the balance (amount) or from a credit note's refund owed (a negative change).
            paid_out = recorded.amount - recorded.refund_owed
            if (paid_out, recorded.credit_note_id) != (command.amount, command.credit_note_id):
                raise RuleViolation("refund_already_recorded",
                                    f"A refund with reference {command.reference!r} is recorded already.")
            # The same refund again (a retry): answered as the first time, nothing changes.
            self.record(self._changed(recorded))
            return
        if command.credit_note_id is not None:
            owed = self.refunds_owed.get(command.credit_note_id, 0)
            if command.amount > owed:
                raise RuleViolation("refund_exceeds_balance",
                                    f"Credit note {command.credit_note_id!r} owes a refund of {owed}, "
                                    f"not {command.amount}.")
            self.refunds_owed[command.credit_note_id] = owed - command.amount
            amount, refund_owed = 0, -command.amount
        else:
            if command.amount > self.amount:
                raise RuleViolation("refund_exceeds_balance",
                                    f"The balance holds {self.amount}, less than the refund of {command.amount}.")
            self.amount -= command.amount
            amount, refund_owed = command.amount, 0
        self._move("refund", amount, command.reference, now=now, actor=actor, refund_owed=refund_owed,
                   credit_note_id=command.credit_note_id, paid_on=command.paid_on, reference=command.reference,
                   note=command.note)

    def _move(self, kind: MovementKind, amount: int, source_id: str, *, now: datetime, actor: str,
              **detail) -> BalanceMovement:
        movement = BalanceMovement(id=f"bm_{len(self.movements) + 1}", kind=kind, amount=amount,
                                   source_id=source_id, at=now, actor=actor, **detail)
        self.movements = [*self.movements, movement]
        self.record(self._changed(movement))
        return movement

    def _changed(self, movement: BalanceMovement) -> CustomerBalanceChanged:
        return CustomerBalanceChanged(balance_key=self.id, customer_id=self.customer_id, currency=self.currency,
                                      movement=movement, balance=self.amount, refunds_owed=self.refund_owed,
                                      version=self.version + 1)
