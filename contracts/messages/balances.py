"""Customer balances (Stripe's customer credit balance): what an account owes one of its customers
in one currency, kept for the customer's next invoices, and the refunds it owes them.

A balance is one aggregate with one writer: every message that changes it is keyed by its
`balance_key` (`<account>/<customer id>/<currency>`), so it is handled on one partition, in order,
and never from an invoice's. An invoice tells the balance what it credits or asks for with a
command keyed by the balance; the balance tells the invoice what it takes with a command keyed by
the invoice (`invoice.apply_balance`).
"""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from contracts import topics
from contracts.messages.base import Command, Event, Identifier, message_type
from contracts.messages.bounds import Amount, AmountPaid, Day, Moment, Name, PositiveAmount, ShortText, Text, Version
from contracts.messages.common import ValueModel
from contracts.money import Currency

_ID = r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}"
BalanceKey = Annotated[str, Field(
    pattern=rf"^{_ID}/{_ID}/[A-Z]{{3}}$",
    description="account id / customer id / currency: the Kafka key keeps a balance on one partition",
    examples=["acct_acme/cus_globex/EUR"],
)]

# Where a movement comes from; each source moves a balance once.
MovementKind = Literal[
    "credit_note",  # a credit note's customer_balance_amount (and its refund_amount, owed)
    "overpayment",  # an invoice paid more than it owed
    "invoice_payment",  # the balance paid (part of) an invoice at its finalization
    "invoice_returned",  # an invoice that could no longer take the balance (void, paid meanwhile) gave it back
    "refund",  # a refund paid out to the customer
]
CreditKind = Literal["credit_note", "overpayment", "invoice_returned"]


def balance_key(account_id: str, customer_id: str, currency: str) -> str:
    """The balance of one account's customer in one currency."""
    return f"{account_id}/{customer_id}/{currency}"


@message_type("customer_balance.credit", topic=topics.INVOICES_COMMANDS, key="balance_key", internal=True)
class CreditCustomerBalance(Command):
    """Internal: the invoices service credits a customer's balance from one source, once per source
    (`kind`, `source_id`): the balance part of a credit note, an overpayment, a balance given back.
    A credit note's refund part is recorded as owed (`refund_owed`), paid out by
    `customer_balance.record_refund` naming the credit note."""

    balance_key: BalanceKey
    kind: CreditKind
    source_id: Annotated[str, Field(pattern=rf"^{_ID}(/{_ID})?$", description="The credit note, or "
                                    "`<invoice id>/<payment or movement id>`")]
    invoice_id: Identifier
    amount: AmountPaid = Field(default=0, description="Credited to the balance")
    refund_owed: AmountPaid = Field(default=0, description="Owed back to the customer (a credit note's refund_amount)")

    @model_validator(mode="after")
    def _something(self):
        if not self.amount and not self.refund_owed:
            raise ValueError("credit an amount, a refund owed, or both")
        return self


@message_type("customer_balance.apply", topic=topics.INVOICES_COMMANDS, key="balance_key", internal=True)
class ApplyCustomerBalance(Command):
    """Internal: a finalized invoice asks its customer's balance for up to `amount` (what it owes).
    The balance takes min(balance, amount) and tells the invoice with `invoice.apply_balance`;
    an empty balance answers `no_customer_balance`."""

    balance_key: BalanceKey
    invoice_id: Identifier
    amount: PositiveAmount


@message_type("customer_balance.record_refund", topic=topics.INVOICES_COMMANDS, key="balance_key")
class RecordCustomerRefund(Command):
    """A refund paid out to the customer (by bank transfer, outside the platform). Without
    `credit_note_id` it lowers the balance; naming a credit note issued with `credit_to=refund`, it
    pays (part of) the refund that credit note owes. Never below zero (`refund_exceeds_balance`).
    One refund per `reference`: the same one recorded again changes nothing."""

    balance_key: BalanceKey
    amount: PositiveAmount
    paid_on: Day
    reference: ShortText = Field(min_length=1, description="The payout's reference, e.g. the bank transfer's")
    credit_note_id: Identifier | None = None
    note: Text = ""


@message_type("invoice.apply_balance", topic=topics.INVOICES_COMMANDS, key="invoice_id", internal=True)
class ApplyBalanceToInvoice(Command):
    """Internal: the customer's balance paid `amount` of the invoice (Stripe's starting_balance).
    An invoice that can no longer take it (void or paid meanwhile) gives back what it cannot take."""

    invoice_id: Identifier
    balance_key: BalanceKey
    movement_id: Identifier
    amount: PositiveAmount


class BalanceMovement(ValueModel):
    """One change of a balance, with its source."""

    id: Identifier
    kind: MovementKind
    amount: AmountPaid = Field(description="How much the balance changed (up for credits, down for its use and refunds)")
    refund_owed: Amount = Field(default=0, description="How much the refunds owed changed (up by a credit note, "
                                                    "down by a refund naming it)")
    source_id: Text
    invoice_id: Identifier | None = None
    credit_note_id: Identifier | None = None
    paid_on: Day | None = None
    reference: ShortText = ""
    note: Text = ""
    at: Moment
    actor: Name


@message_type("customer_balance.changed", topic=topics.INVOICES_EVENTS, key="balance_key")
class CustomerBalanceChanged(Event):
    """A customer's balance moved: the movement, and the balance and refunds owed after it."""

    balance_key: BalanceKey
    customer_id: Identifier
    currency: Currency
    movement: BalanceMovement
    balance: AmountPaid
    refunds_owed: AmountPaid
    version: Version
