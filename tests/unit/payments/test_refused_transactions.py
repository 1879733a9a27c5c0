"""The bank feed hears of every transaction: one payments cannot decode or store is answered
with payment.rejected naming it, not only dead-lettered."""

from datetime import date

from contracts.envelope import Envelope
from contracts.messages.payments import BankTransactionReceived
from tests.unit.harness import ACCOUNT, Platform, only


def transfer_envelope() -> Envelope:
    return Envelope.originate(source="bank-feed", type=BankTransactionReceived.type_name, subject="tx-1",
                              accountid=ACCOUNT, actor="service:bank-feed")


def test_a_transaction_that_breaks_its_schema_is_answered_by_payments():
    consumer = Platform("payments").payments.consumer
    assert consumer._answers(transfer_envelope(), "payments.transactions", "invalid_data")
    # Other events are still only dead-lettered: nobody waits for their answer.
    invoice_event = Envelope.originate(source="invoices", type="invoice.finalized", subject="inv_1", accountid=ACCOUNT,
                                       actor="service:invoices")
    assert not consumer._answers(invoice_event, "invoices.events", "invalid_data")


async def test_a_transaction_that_cannot_be_stored_is_answered_after_its_dead_letter():
    platform = Platform("payments")
    attempts = platform.payments.service.settings.handler_attempts
    for _ in range(attempts):
        platform.payments.fail_once("transactions", "insert", error=lambda: RuntimeError("no room"))
    transfer = BankTransactionReceived(transaction_id="tx-1", iban="DE89370400440532013000", amount=1000,
                                       currency="EUR", booked_on=date(2026, 11, 2))
    envelope = transfer_envelope()
    answer = only(await platform.send(transfer, envelope=envelope), "payment.rejected")
    assert (answer.reason, answer.subject_id, answer.command_id, answer.command_type) == (
        "internal_error", "tx-1", str(envelope.id), "bank_transaction.received")
    [dead] = platform.dead_letters
    assert (dead.topic, dead.headers["dlq_reason"]) == ("payments.transactions.dlq", "handler_error")
