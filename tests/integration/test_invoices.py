"""The invoices and numbering services on the real stack: numbering, redelivery, DLQ, delivery attempts,
each path once (the rules in full, in memory: tests/unit/invoices/test_handlers.py)."""

import json
import os
import uuid
from datetime import UTC, datetime

from contracts.envelope import Envelope
from contracts.messages.invoices import FinalizeInvoice, SendInvoice, VoidInvoice
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import stored_invoice


def new_id() -> str:
    return f"inv_{uuid.uuid4().hex[:16]}"


async def configured(producer, event_log, account_id, **overrides):
    command = configure_account(account_id, **overrides)
    await producer.send(command, account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)


async def test_finalized_invoices_get_consecutive_numbers_per_account(services, producer, event_log, account_id):
    await configured(producer, event_log, account_id)
    invoice_ids = [new_id() for _ in range(3)]
    for invoice_id in invoice_ids:
        await producer.send(create_invoice(invoice_id), account_id=account_id)
    for invoice_id in invoice_ids:
        await event_log.wait_for_type("invoice.created", invoice_id)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)

    numbers = []
    for invoice_id in invoice_ids:
        finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]
        assert finalized["status"] == "open"
        assert finalized["total"] == 10 * 12000 + 22800 + 4550
        assert finalized["payee_iban"] == "DE89370400440532013000"
        assert finalized["payment_reference"].startswith("RF")
        numbers.append(finalized["number"])
    year = datetime.now(UTC).year
    assert sorted(numbers) == [f"INV-{year}-{n:05d}" for n in (1, 2, 3)]


async def test_a_redelivered_command_has_one_effect(services, producer, event_log, account_id):
    await configured(producer, event_log, account_id)
    invoice_id = new_id()
    envelope = await producer.send(create_invoice(invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    await producer.send(create_invoice(invoice_id), account_id=account_id, envelope=envelope)
    # A later command on the same key is handled after the duplicate: once it is answered,
    # the duplicate was seen and produced nothing.
    await producer.send(VoidInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for(lambda r: r.type == "invoice.command_rejected" and r.data["command_type"] == "invoice.void")
    assert len(event_log.of_type("invoice.created", invoice_id)) == 1
    assert not [r for r in event_log.of_type("invoice.command_rejected", invoice_id) if r.data["command_type"] == "invoice.create"]


async def test_undecodable_messages_go_to_the_dead_letter_topic_and_consumption_goes_on(
    services, producer, event_log, account_id
):
    await configured(producer, event_log, account_id)
    # Not JSON at all, under a valid envelope: dead-lettered, and the sender hears why.
    bad_id = new_id()
    envelope = Envelope.originate(source="tests", type="invoice.create", subject=bad_id, accountid=account_id, actor="user:test")
    await producer.send_raw("invoices.commands", bad_id, envelope.to_headers(), b"{not json")
    # No envelope at all.
    await producer.send_raw("invoices.commands", "garbage", {"x": "y"}, b"\x00\xff")
    # Valid JSON that breaks the model (unknown currency, misspelt field).
    invalid = json.loads(create_invoice(bad_id).model_dump_json())
    invalid["currency"] = "EURO"
    invalid["lines_typo"] = []
    envelope2 = Envelope.originate(source="tests", type="invoice.create", subject=bad_id, accountid=account_id, actor="user:test")
    await producer.send_raw("invoices.commands", bad_id, envelope2.to_headers(), json.dumps(invalid).encode())

    dead = await event_log.wait_for(lambda r: r.topic == "invoices.commands.dlq" and r.headers.get("ce_id") == str(envelope.id))
    assert dead.headers["dlq_reason"] == "invalid_json"
    assert dead.body == b"{not json"
    no_envelope = await event_log.wait_for(lambda r: r.topic == "invoices.commands.dlq" and r.key == "garbage")
    assert no_envelope.headers["dlq_reason"] == "invalid_envelope"
    invalid_dead = await event_log.wait_for(lambda r: r.topic == "invoices.commands.dlq" and r.headers.get("ce_id") == str(envelope2.id))
    assert invalid_dead.headers["dlq_reason"] == "invalid_data"
    assert "currency" in invalid_dead.headers["dlq_detail"] and "lines_typo" in invalid_dead.headers["dlq_detail"]
    answer = await event_log.wait_for(lambda r: r.type == "invoice.command_rejected" and r.data["command_id"] == str(envelope2.id))
    assert answer.data["reason"] == "invalid_data"

    # The consumer is still alive and handles the next good command.
    good_id = new_id()
    await producer.send(create_invoice(good_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", good_id)


async def test_every_delivery_attempt_shows_in_the_history_and_a_failed_send_is_answered(
    services, producer, event_log, account_id
):
    await configured(producer, event_log, account_id)
    invoice_id = new_id()
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.finalized", invoice_id)
    send = await producer.send(SendInvoice(invoice_id=invoice_id, to=["tempfail-ap@globex.example"], cc=[]),
                               account_id=account_id)

    answer = await event_log.wait_for(
        lambda r: r.type == "invoice.command_rejected" and r.data["command_id"] == str(send.id), timeout=60
    )
    assert answer.data["reason"] == "delivery_failed"
    stored = await stored_invoice(account_id, invoice_id, settled=lambda d: d["history"][-1]["action"] == "email_bounced")
    attempts = [entry for entry in stored["history"] if entry["action"].startswith("email_")]
    retries = int(os.environ["MAILER_MAX_ATTEMPTS"]) - 1
    assert [entry["action"] for entry in attempts] == ["email_queued", *["email_deferred"] * retries, "email_bounced"]
    assert [entry["detail"]["attempt"] for entry in attempts[1:-1]] == list(range(1, retries + 1))
    assert stored["last_sent_at"] is None
