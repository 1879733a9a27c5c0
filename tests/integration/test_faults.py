"""Faults a hostile or careless producer causes, on the real stack: nothing blocks, nothing is
dropped, every command is answered."""

import asyncio
import json
import subprocess
import uuid

import httpx

from contracts.envelope import Envelope
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from contracts.messages.numbering import NumberAllocated
from contracts.references import is_valid_creditor_reference
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import REPO, internal_url


def new_invoice_id() -> str:
    return f"inv_{uuid.uuid4().hex[:16]}"


async def configured(producer, event_log, account_id, **settings) -> None:
    await producer.send(configure_account(account_id, **settings), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)


async def finalized_invoice(producer, event_log, account_id) -> str:
    invoice_id = new_invoice_id()
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.finalized", invoice_id)
    return invoice_id


def answers_to(event_log, command: Envelope) -> list:
    return [r for r in event_log.records if r.caused_by(command)]


async def test_a_long_number_format_finalizes_with_a_valid_reference_and_blocks_no_one(
    services, producer, event_log, account_id
):
    await configured(producer, event_log, account_id, number_format="ACMEWIDGETSLONGPREFIX-{yyyy}-{seq:06}")
    invoice_ids = [new_invoice_id() for _ in range(6)]  # spread over numbering.events' partitions
    for invoice_id in invoice_ids:
        await producer.send(create_invoice(invoice_id), account_id=account_id)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    for invoice_id in invoice_ids:
        finalized = await event_log.wait_for_type("invoice.finalized", invoice_id)
        invoice = finalized.data["invoice"]
        assert invoice["number"].startswith("ACMEWIDGETSLONGPREFIX-")
        assert is_valid_creditor_reference(invoice["payment_reference"])


async def test_an_event_whose_handler_keeps_failing_is_dead_lettered_and_the_finalize_is_answered(
    services, producer, event_log, account_id
):
    await configured(producer, event_log, account_id)
    invoice_id = new_invoice_id()
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    services.stop("numbering")
    try:
        finalize = await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
        request = await event_log.wait_for_type("number.allocate", f"{account_id}/INV-{{yyyy}}-{{seq:05}}")
        # A number no reference can be built from: the invoices handler fails on every attempt.
        broken = NumberAllocated(invoice_id=invoice_id, series_key=request.data["series_key"], sequence_key="x",
                                 sequence=1, number="--", allocated_at="2026-11-24T10:00:00Z")
        sent = await producer.send(broken, account_id=account_id, actor="service:numbering")
        dead = await event_log.wait_for(
            lambda r: r.topic == "numbering.events.dlq" and r.headers.get("ce_id") == str(sent.id), timeout=60
        )
        assert dead.headers["dlq_reason"] == "handler_error"
        rejected = await event_log.wait_for(
            lambda r: r.type == "invoice.command_rejected" and r.data["command_id"] == str(finalize.id)
        )
        assert rejected.data["reason"] == "finalization_failed"
    finally:
        services.start("numbering")
        services.wait_ready("numbering")
    # The partition moved on, and the invoice can be finalized, with the number reserved for it.
    allocated = await event_log.wait_for(
        lambda r: r.type == "number.allocated" and r.key == invoice_id and r.headers.get("ce_source") == "numbering"
    )
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = await event_log.wait_for_type("invoice.finalized", invoice_id)
    assert finalized.data["invoice"]["number"] == allocated.data["number"]
    assert httpx.get(internal_url("invoices", "/readyz")).status_code == 200


async def test_a_header_that_is_not_utf8_is_dead_lettered_and_answered(services, producer, event_log, account_id):
    await configured(producer, event_log, account_id)
    invoice_id = new_invoice_id()
    command = create_invoice(invoice_id)
    envelope = Envelope.originate(source="tests", type=command.type_name, subject=invoice_id, accountid=account_id,
                                  actor="user:test")
    headers = {**envelope.to_headers(), "ce_actor": b"user:\xff\xfe\xfd"}
    await producer.send_raw(command.topic, invoice_id, headers, command.model_dump_json().encode())
    dead = await event_log.wait_for(
        lambda r: r.topic == "invoices.commands.dlq" and r.headers.get("ce_id") == str(envelope.id)
    )
    assert dead.headers["dlq_reason"] == "invalid_header"
    assert "ce_actor" in dead.headers["dlq_detail"]
    assert dead.headers["ce_actor"] == "user:\\xff\\xfe\\xfd"
    rejected = await event_log.wait_for(lambda r: r.type == "invoice.command_rejected" and r.key == invoice_id)
    assert rejected.data["reason"] == "invalid_header"
    # Nothing was created from it, and the same command with a proper header works.
    await producer.send(command, account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)


async def test_two_finalize_commands_for_one_draft_each_get_an_answer(services, producer, event_log, account_id):
    await configured(producer, event_log, account_id)
    invoice_id = new_invoice_id()
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    first = await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    second = await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = await event_log.wait_for_type("invoice.finalized", invoice_id)
    assert finalized.envelope.correlationid == first.correlationid
    rejected = await event_log.wait_for(
        lambda r: r.type == "invoice.command_rejected" and r.data["command_id"] == str(second.id)
    )
    assert rejected.data["reason"] in {"finalization_pending", "invalid_status"}
    assert len(event_log.of_type("invoice.finalized", invoice_id)) == 1


async def test_a_command_on_a_topic_that_is_not_its_own_is_answered_once_and_dead_lettered(
    services, producer, event_log, account_id
):
    await configured(producer, event_log, account_id)
    for topic in ("payments.commands", "invoices.events"):  # one reader; three readers
        invoice_id = new_invoice_id()
        command = FinalizeInvoice(invoice_id=invoice_id)
        envelope = Envelope.originate(source="tests", type=command.type_name, subject=invoice_id,
                                      accountid=account_id, actor="user:test")
        await producer.send_raw(topic, invoice_id, envelope.to_headers(), command.model_dump_json().encode())
        answer = await event_log.wait_for(lambda r, e=envelope: r.caused_by(e))
        assert answer.type == "payment.rejected"
        assert answer.data["reason"] == "wrong_topic"
        assert "invoices.commands" in answer.data["message"]
        dead = await event_log.wait_for(
            lambda r, e=envelope, t=topic: r.topic == f"{t}.dlq" and r.headers.get("ce_id") == str(e.id)
        )
        assert dead.headers["dlq_reason"] == "wrong_topic"
        await asyncio.sleep(1)  # would a second reader answer too?
        assert len(answers_to(event_log, envelope)) == 1


async def test_too_many_recipients_is_refused_with_its_own_reason(services, producer, event_log, account_id):
    await configured(producer, event_log, account_id)
    invoice_id = await finalized_invoice(producer, event_log, account_id)
    command = {"invoice_id": invoice_id, "to": [f"ap{i}@globex.example" for i in range(4)]}
    envelope = Envelope.originate(source="tests", type=SendInvoice.type_name, subject=invoice_id,
                                  accountid=account_id, actor="user:test")
    await producer.send_raw("invoices.commands", invoice_id, envelope.to_headers(), json.dumps(command).encode())
    rejected = await event_log.wait_for(lambda r: r.type == "invoice.command_rejected" and r.key == invoice_id)
    assert rejected.data["reason"] == "too_many_recipients"


async def test_readiness_and_metrics_report_a_consumer_that_stopped_advancing(services, producer, event_log, account_id):
    await configured(producer, event_log, account_id)
    invoice_id = new_invoice_id()
    base = internal_url("invoices", "")
    # The invoices service's store: without it the consumer cannot handle the record and stops advancing.
    subprocess.run(["deploy/stack.sh", "down", "postgres"], cwd=REPO, check=True, timeout=60)
    try:
        await producer.send(create_invoice(invoice_id), account_id=account_id)
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(60):
                ready = await http.get("/readyz", timeout=5)
                if "consumer stalled on invoices.commands[" in ready.text:
                    break
                await asyncio.sleep(0.5)
            assert ready.status_code == 503
            assert "consumer stalled on invoices.commands[" in ready.text, ready.text
            metrics = (await http.get("/metrics")).text
        stalled = [line for line in metrics.splitlines()
                   if line.startswith('invoicing_consumer_stalled_seconds{partition=') and 'topic="invoices.commands"' in line]
        assert any(float(line.rsplit(" ", 1)[1]) > 0 for line in stalled), stalled
        lag = [line for line in metrics.splitlines()
               if line.startswith("invoicing_consumer_lag_records{") and 'topic="invoices.commands"' in line]
        assert sum(float(line.rsplit(" ", 1)[1]) for line in lag) >= 1
    finally:
        subprocess.run(["deploy/stack.sh", "up", "postgres"], cwd=REPO, check=True, timeout=60)
    # Once the store is back the record is handled, and the service is ready again.
    await event_log.wait_for_type("invoice.created", invoice_id, timeout=90)
    async with httpx.AsyncClient(base_url=base) as http:
        for _ in range(60):
            if (await http.get("/readyz", timeout=5)).status_code == 200:
                break
            await asyncio.sleep(0.5)
        else:
            raise AssertionError("invoices did not become ready again")
