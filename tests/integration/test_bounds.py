"""Hostile but well-formed messages on the real stack: whatever is out of bounds is refused when it
arrives, with `invalid_data` or the rule's own reason, and answered; nothing is left stuck behind it."""

import json
import time
import uuid
from datetime import date, timedelta
from typing import Any

from contracts.envelope import Envelope
from contracts.messages.invoices import ConfigureAccount, CreateInvoice, FinalizeInvoice
from contracts.messages.payments import BankTransactionReceived
from tests.integration.factories import configure_account, create_invoice

IBAN = "DE89370400440532013000"


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


async def send_json(producer, type_name: str, topic: str, subject: str, data: dict[str, Any], account_id: str) -> Envelope:
    """Publish data as it is, past the models that would refuse to build it."""
    envelope = Envelope.originate(source="tests", type=type_name, subject=subject, accountid=account_id,
                                  actor="user:test")
    await producer.send_raw(topic, subject, envelope.to_headers(), json.dumps(data).encode())
    return envelope


async def answer_to(event_log, sent: Envelope, timeout: float = 30):
    return await event_log.wait_for(lambda r: r.caused_by(sent), timeout)


async def configured(producer, event_log, account_id, **settings) -> None:
    await producer.send(configure_account(account_id, **settings), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)


def invoice_json(invoice_id: str, **changes: Any) -> dict[str, Any]:
    return {**create_invoice(invoice_id).model_dump(mode="json"), **changes}


async def refused_create(producer, event_log, account_id, data: dict[str, Any]) -> dict[str, Any]:
    sent = await send_json(producer, CreateInvoice.type_name, CreateInvoice.topic, data["invoice_id"], data, account_id)
    answer = await answer_to(event_log, sent)
    assert answer.type == "invoice.command_rejected", answer.type
    return answer.data


async def test_out_of_bounds_invoices_are_refused_on_arrival(services, producer, event_log, account_id):
    await configured(producer, event_log, account_id, reminder_schedule=[-3, 7])
    line = create_invoice("x").lines[0].model_dump(mode="json")
    cases = {
        # The mail for such a customer never composed.
        "control characters in the customer's name": (
            {"customer": {"name": "Globex\x07\x1b[2J", "email": ["ap@globex.example"]}}, "invalid_data"),
        "NUL in the memo": ({"memo": "Thanks\x00"}, "invalid_data"),
        # Allocated a number, then failed with OverflowError computing the reminders.
        "a due date of 9999-12-31": ({"days_until_due": None, "due_date": "9999-12-31"}, "invalid_data"),
        # Ended in internal_error after seconds of retries.
        "a unit amount of 10^20": ({"lines": [{**line, "unit_amount": 10**20}]}, "invalid_data"),
        "a due date before the issue date": (
            {"days_until_due": None, "due_date": (date.today() - timedelta(days=1)).isoformat()}, "due_date_before_issue"),
        # Finalized into an open invoice that could never be paid.
        "a negative total": ({"lines": [{**line, "unit_amount": -12000}]}, "negative_total"),
    }
    for case, (changes, reason) in cases.items():
        invoice_id = new_id("inv")
        started = time.perf_counter()
        rejected = await refused_create(producer, event_log, account_id, invoice_json(invoice_id, **changes))
        assert (case, rejected["reason"]) == (case, reason), rejected["message"]
        assert time.perf_counter() - started < 10, f"{case}: answered only after retries"
        assert not event_log.of_type("invoice.created", invoice_id)
    # The account's invoices go on as usual.
    invoice_id = new_id("inv")
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.finalized", invoice_id)


async def test_a_number_format_that_makes_no_valid_series_is_refused_by_account_configure(
    services, producer, event_log, account_id
):
    await configured(producer, event_log, account_id)
    for number_format, reason in [("INV-{seq}-" + "x" * 5000, "invalid_data"), ("INV-{yyyy}", "invalid_number_format")]:
        data = {**ConfigureAccount(account_id=account_id).model_dump(mode="json", exclude_none=True),
                "number_format": number_format}
        sent = await send_json(producer, ConfigureAccount.type_name, ConfigureAccount.topic, account_id, data, account_id)
        answer = await answer_to(event_log, sent)
        assert (answer.type, answer.data["reason"]) == ("invoice.command_rejected", reason)
    # The account keeps its format: every finalize used to fail with internal_error after the long one.
    invoice_id = new_id("inv")
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = await event_log.wait_for_type("invoice.finalized", invoice_id)
    assert finalized.data["invoice"]["number"].startswith("INV-")


async def test_a_bank_transaction_out_of_bounds_is_answered_not_only_dead_lettered(
    services, producer, event_log, account_id
):
    valid = BankTransactionReceived(transaction_id="tx", iban=IBAN, amount=1000, currency="EUR",
                                    booked_on=date.today(), remittance_information="no reference here",
                                    debtor_name="Globex Corporation").model_dump(mode="json")
    for change in ({"debtor_name": "Globex\r\nCorporation"}, {"debtor_name": "Globex\x00"},
                   {"remittance_information": "INV-1\x00"}, {"amount": 10**30}):
        transaction_id = new_id("tx")
        data = {**valid, **change, "transaction_id": transaction_id}
        sent = await send_json(producer, BankTransactionReceived.type_name, BankTransactionReceived.topic,
                               transaction_id, data, account_id)
        answer = await answer_to(event_log, sent)
        assert answer.type == "payment.rejected"
        assert (answer.data["reason"], answer.data["subject_id"], answer.data["command_type"]) == (
            "invalid_data", transaction_id, "bank_transaction.received")
        assert answer.key == transaction_id
        dead = await event_log.wait_for(
            lambda r, s=sent: r.topic == "payments.transactions.dlq" and r.headers.get("ce_id") == str(s.id))
        assert dead.headers["dlq_reason"] == "invalid_data"
        assert json.loads(dead.body) == data  # kept whole, to be replayed once corrected
        # The same transaction, corrected, is taken as any other.
        corrected = await send_json(producer, BankTransactionReceived.type_name, BankTransactionReceived.topic,
                                    transaction_id, {**valid, "transaction_id": transaction_id}, account_id)
        assert (await answer_to(event_log, corrected)).type == "payment.unmatched"
