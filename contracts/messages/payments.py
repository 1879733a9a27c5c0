"""payments.transactions, payments.commands and payments.events."""

from typing import Literal

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from contracts import topics
from contracts.messages.base import Command, Event, Identifier, message_type
from contracts.messages.bounds import Day, Moment, PositiveAmount, QuotedName, Text, bounded_list, text
from contracts.messages.common import CommandRejected, Iban, ValueModel
from contracts.money import Currency
from contracts.reasons import UnmatchedReason

PaymentMethod = Literal["bank_transfer", "cash", "card", "cheque", "other"]
# Banks break remittance text over lines (MT940's :86:, camt's several Ustrd): line breaks are kept.
Remittance = text(500, line_breaks=True)


class BankCredit(Event):
    """What a bank says of a credit to one of the account's bank accounts, booked or not."""

    transaction_id: Identifier = Field(description="The bank's id; the same id twice is one transaction")
    iban: Iban = Field(description="The account that was credited")
    amount: PositiveAmount
    currency: Currency
    remittance_information: Remittance = ""  # type: ignore[valid-type]
    debtor_name: Text = ""
    debtor_iban: Iban | None = None
    end_to_end_id: text(35) = ""  # type: ignore[valid-type]


@message_type("bank_transaction.received", topic=topics.PAYMENTS_TRANSACTIONS, key="transaction_id")
class BankTransactionReceived(BankCredit):
    """A credit booked on one of the account's bank accounts."""

    booked_on: Day


@message_type("bank_transaction.pending", topic=topics.PAYMENTS_TRANSACTIONS, key="transaction_id")
class BankTransactionPending(BankCredit):
    """A credit the bank announced and has not booked yet (a camt.054 or camt.052 entry with status
    PDNG): payments matches it like a transfer and announces `payment.pending`; no money counts yet,
    and an unmatched one is not queued. Its booking comes as a bank_transaction.received of its own."""

    value_date: Day | None = Field(default=None, description="The day the bank expects the money to be "
                                                             "available, when it says")


@message_type("payment.record", topic=topics.PAYMENTS_COMMANDS, key="invoice_id")
class RecordPayment(Command):
    """A payment received outside the bank feed, entered by hand."""

    invoice_id: Identifier
    payment_id: Identifier
    amount: PositiveAmount
    currency: Currency
    paid_on: Day
    method: PaymentMethod = "bank_transfer"
    note: Text = ""


class TransactionShare(ValueModel):
    """The part of a bank transaction one invoice takes in a split."""

    invoice_id: Identifier
    amount: PositiveAmount


@message_type("payment.apply", topic=topics.PAYMENTS_COMMANDS, key="invoice_id")
class ApplyTransaction(Command):
    """Apply an unmatched bank transaction by hand: to one invoice, or split over several."""

    invoice_id: Identifier = Field(description="The invoice it pays; with a split, one of the split's invoices")
    transaction_id: Identifier
    split: bounded_list(TransactionShare, 50) = Field(  # type: ignore[valid-type]
        default=[],
        description=(
            "To split the transaction over several invoices: each invoice once, with the amount it takes; the "
            "amounts add up to the transaction's. Empty: the whole transaction pays invoice_id."
        ),
    )

    @model_validator(mode="after")
    def _one_share_per_invoice(self) -> "ApplyTransaction":
        invoices = [share.invoice_id for share in self.split]
        if self.split and (len(set(invoices)) < len(invoices) or self.invoice_id not in invoices):
            # The error type is the reason code the rejection carries (see contracts.reasons).
            raise PydanticCustomError("invalid_split", "a split names each invoice once, invoice_id among them")
        return self


@message_type("payment.remove", topic=topics.PAYMENTS_COMMANDS, key="invoice_id")
class RemovePayment(Command):
    invoice_id: Identifier
    payment_id: Identifier
    reason: Text = ""


@message_type("payment.matched", topic=topics.PAYMENTS_EVENTS, key="invoice_id")
class PaymentMatched(Event):
    """A payment now counts towards an invoice."""

    invoice_id: Identifier
    payment_id: Identifier
    amount: PositiveAmount
    currency: Currency
    paid_on: Day
    method: PaymentMethod
    match: Literal["automatic", "applied", "manual"] = Field(
        description="automatic: bank feed matched by IBAN and reference; applied: a person applied an unmatched transaction; manual: recorded by hand"
    )
    online: bool = Field(default=False, description="Collected through an online payment provider")
    transaction_id: Identifier | None = None


@message_type("payment.pending", topic=topics.PAYMENTS_EVENTS, key="invoice_id")
class PaymentPending(Event):
    """A transfer for an open invoice is on its way: the bank announced it (bank_transaction.pending)
    and has not booked it. The invoice shows a payment pending until the booked transfer counts,
    nothing remains to pay, or `expires_at` passes."""

    invoice_id: Identifier
    transaction_id: Identifier = Field(description="The announcing bank transaction's id")
    amount: PositiveAmount
    currency: Currency
    value_date: Day | None = None
    expires_at: Moment = Field(description="When the invoice stops showing it, if nothing was booked by then "
                                           "(PAYMENT_PENDING_DAYS after the announcement or its value date)")


@message_type("payment.removed", topic=topics.PAYMENTS_EVENTS, key="invoice_id")
class PaymentRemoved(Event):
    invoice_id: Identifier
    payment_id: Identifier
    amount: PositiveAmount
    currency: Currency
    reason: Text = ""


@message_type("payment.unmatched", topic=topics.PAYMENTS_EVENTS, key="transaction_id")
class PaymentUnmatched(Event):
    """A bank transaction no open invoice claims; it waits in the unmatched queue."""

    transaction_id: Identifier
    iban: Iban
    amount: PositiveAmount
    currency: Currency
    booked_on: Day
    remittance_information: Remittance = ""  # type: ignore[valid-type]
    reason: UnmatchedReason = Field(
        description=(
            "Why no invoice took it; every code and its rule: docs/reason-codes.md. A transaction whose text "
            "named no invoice payments knew (no_reference, unknown_reference, unknown_iban) is matched "
            "automatically once an invoice it names becomes known, if every rule then holds."
        )
    )


@message_type("payment.rejected", topic=topics.PAYMENTS_EVENTS, key="subject_id")
class PaymentCommandRejected(CommandRejected):
    """The answer to a refused payment command, and to a bank transaction payments could not take
    (`command_type` bank_transaction.received, `subject_id` its transaction id): one that breaks its
    schema, or whose handling failed for good."""

    subject_id: QuotedName
