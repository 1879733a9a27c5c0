"""The bank feed hears of every transaction: one payments cannot decode or store is answered
with payment.rejected naming it, not only dead-lettered."""

from datetime import date
from types import SimpleNamespace

from chassis.consumer import Consumer
from chassis.settings import ServiceSettings
from contracts.envelope import Envelope
from contracts.messages.payments import BankTransactionReceived, PaymentCommandRejected
from services.payments.handlers import PaymentHandlers


def payments_consumer() -> Consumer:
    consumer = Consumer(service="payments", broker=None, publisher=None, inbox=None, metrics=None,
                        settings=ServiceSettings(), rejection=PaymentCommandRejected, in_order_per="account")
    PaymentHandlers(SimpleNamespace(consumer=consumer), None, None, None, None, None).register()
    return consumer


def transfer_envelope() -> Envelope:
    return Envelope.originate(source="bank-feed", type=BankTransactionReceived.type_name, subject="tx-1",
                              accountid="acct", actor="service:bank-feed")


def test_a_transaction_that_breaks_its_schema_is_answered_by_payments():
    consumer = payments_consumer()
    assert consumer._answers(transfer_envelope(), "payments.transactions", "invalid_data")
    # Other events are still only dead-lettered: nobody waits for their answer.
    invoice_event = Envelope.originate(source="invoices", type="invoice.finalized", subject="inv_1", accountid="acct",
                                       actor="service:invoices")
    assert not consumer._answers(invoice_event, "invoices.events", "invalid_data")


async def test_a_transaction_that_cannot_be_stored_is_answered_after_its_dead_letter():
    transfer = BankTransactionReceived(transaction_id="tx-1", iban="DE89370400440532013000", amount=1000,
                                       currency="EUR", booked_on=date(2026, 11, 2))
    envelope = transfer_envelope()
    context = await payments_consumer()._give_up(envelope, transfer)
    [answer] = [outgoing.data for outgoing in context.emitted]
    assert isinstance(answer, PaymentCommandRejected)
    assert (answer.reason, answer.subject_id, answer.command_id, answer.command_type) == (
        "internal_error", "tx-1", str(envelope.id), "bank_transaction.received")
