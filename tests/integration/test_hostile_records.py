"""Every class of record a consumer cannot read, on the real stack: it is dead-lettered with its
reason and its bytes, a command whose envelope is readable is answered, and the valid record sent
right after it on the same partition is handled."""

import asyncio
import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from contracts.envelope import Envelope
from contracts.messages.numbering import AllocateNumber
from tests.integration.factories import create_invoice
from tests.integration.harness import REPO, internal_url, kafka_options, start_explained

MIB = 1_048_576


def new_invoice_id() -> str:
    return f"inv_{uuid.uuid4().hex[:16]}"


def valid_body(invoice_id: str) -> bytes:
    return create_invoice(invoice_id).model_dump_json().encode()


def with_field(invoice_id: str, raw_value: bytes) -> bytes:
    return valid_body(invoice_id)[:-1] + b', "x": ' + raw_value + b"}"


# name: (headers from the envelope's, body, reason, answered)
CASES = {
    "too large": (lambda h: h, lambda i: with_field(i, b'"' + b"x" * (MIB + 200_000) + b'"'), "too_large", True),
    "nested 100,000 deep": (lambda h: h, lambda i: with_field(i, b"[" * 100_000 + b"]" * 100_000), "too_deep", True),
    "an integer of 5,000 digits": (lambda h: h, lambda i: with_field(i, b"9" * 5000), "number_too_large", True),
    "not JSON": (lambda h: h, lambda i: b"<invoice/>", "invalid_json", True),
    "not UTF-8": (lambda h: h, lambda i: valid_body(i).replace(b"Globex", b"Gl\xffbex"), "invalid_json", True),
    "a header value that is not UTF-8": (lambda h: {**h, "ce_actor": b"user:\xff\xfe"}, valid_body,
                                         "invalid_header", True),
    "an unknown type": (lambda h: {**h, "ce_type": "invoice.explode\n" + "x" * 150}, valid_body, "unknown_type", False),
    "a bad envelope": (lambda h: {k: v for k, v in h.items() if k != "ce_accountid"}, valid_body,
                       "invalid_envelope", False),
    "data its schema refuses": (lambda h: h, lambda i: valid_body(i).replace(b'"EUR"', b'"EURO"'), "invalid_data",
                                True),
}


@pytest.fixture
async def compressing_producer():
    """A hostile operator: gzip lets a record larger than the broker's limit through."""
    producer = AIOKafkaProducer(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"], compression_type="gzip",
                                max_request_size=8 * MIB, **kafka_options("operators"))
    await start_explained(producer, "operators")
    yield producer
    await producer.stop()


def answer_to(event_log, envelope: Envelope):
    return event_log.wait_for(lambda r: r.type == "invoice.command_rejected"
                              and r.data["command_id"] == str(envelope.id))


def dead_letter_of(event_log, envelope: Envelope, topic: str = "invoices.commands"):
    return event_log.wait_for(lambda r: r.topic == f"{topic}.dlq" and r.headers.get("ce_id") == str(envelope.id)
                              and r.headers.get("dlq_source_topic") == topic)


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_record_is_dead_lettered_and_answered_and_the_next_one_handled(
    case, services, producer, compressing_producer, event_log, account_id
):
    make_headers, make_body, reason, answered = CASES[case]
    invoice_id = new_invoice_id()
    envelope = Envelope.originate(source="tests", type="invoice.create", subject=invoice_id, accountid=account_id,
                                  actor="user:test")
    headers, body = make_headers(envelope.to_headers()), make_body(invoice_id)
    await compressing_producer.send_and_wait(
        "invoices.commands", body, key=invoice_id.encode(),
        headers=[(name, value if isinstance(value, bytes) else value.encode()) for name, value in headers.items()])
    await producer.send(create_invoice(invoice_id), account_id=account_id)

    await event_log.wait_for_type("invoice.created", invoice_id)
    dead = await dead_letter_of(event_log, envelope)
    assert dead.headers["dlq_reason"] == reason
    if reason == "too_large":
        assert dead.headers["dlq_shortened_from_bytes"] == str(len(body) + len(invoice_id) + sum(
            len(name) + len(value) for name, value in envelope.to_headers().items()))
        assert dead.body == body[:MIB // 2]
    else:
        assert dead.body == body
    if answered:
        assert (await answer_to(event_log, envelope)).data["reason"] == reason
    else:
        await asyncio.sleep(1)
        assert not [r for r in event_log.records if r.caused_by(envelope)]
    # A made-up type name is no label value (one series per name, for ever).
    metrics = httpx.get(internal_url("invoices", "/metrics"))
    assert metrics.status_code == 200 and "invoicing_messages_dead_lettered_total" in metrics.text
    assert "invoice.explode" not in metrics.text


async def test_a_header_without_value_does_not_stop_the_batch(services, compressing_producer, event_log, account_id):
    invoice_id = new_invoice_id()
    envelope = Envelope.originate(source="tests", type="invoice.create", subject=invoice_id, accountid=account_id,
                                  actor="user:test")
    await compressing_producer.send_and_wait("invoices.commands", valid_body(invoice_id), key=invoice_id.encode(),
                            headers=[*((k, v.encode()) for k, v in envelope.to_headers().items()), ("trace", None)])
    created = await event_log.wait_for_type("invoice.created", invoice_id)
    assert created.envelope.causationid == str(envelope.id)


# Kafka header names are UTF-8 strings by protocol and clients refuse to send others, so this
# producer builds its batch with aiokafka's pure-Python encoder (AIOKAFKA_NO_EXTENSIONS) and a
# name that encodes to bytes that are not UTF-8. It sends the records of its standard input (a
# JSON list of topic, key, headers, body, poisoned) in one producer batch.
_ONE_BATCH_PRODUCER = """
import asyncio, json, sys
from aiokafka import AIOKafkaProducer
from tests.integration.harness import kafka_options, writer_of

class RawName(str):
    def encode(self, *args, **kwargs):
        return b"ce_\\xff\\xfe"

async def main():
    records = json.load(sys.stdin)
    producer = AIOKafkaProducer(bootstrap_servers=sys.argv[1], linger_ms=500,
                                **kafka_options(writer_of(records[0]["topic"])))
    await producer.start()
    try:
        sent = [await producer.send(r["topic"], r["body"].encode(), key=r["key"].encode(),
                                    headers=[(n, v.encode()) for n, v in r["headers"].items()]
                                    + ([(RawName("x"), b"poison")] if r["poisoned"] else []))
                for r in records]
        offsets = [(await delivery).offset for delivery in sent]
        assert offsets == list(range(offsets[0], offsets[0] + len(offsets))), offsets
    finally:
        await producer.stop()

asyncio.run(main())
"""


def send_in_one_batch(records: list[dict]) -> None:
    subprocess.run([sys.executable, "-c", _ONE_BATCH_PRODUCER, os.environ["KAFKA_BOOTSTRAP_SERVERS"]],
                   input=json.dumps(records), text=True, cwd=REPO, check=True, timeout=60,
                   env={**os.environ, "AIOKAFKA_NO_EXTENSIONS": "1"})


def one_batch_record(topic: str, envelope: Envelope, body: bytes, *, poisoned: bool) -> dict:
    return {"topic": topic, "key": envelope.subject, "headers": envelope.to_headers(), "body": body.decode(),
            "poisoned": poisoned}


async def test_a_header_name_that_is_not_utf8_takes_no_valid_neighbour_with_it(
    services, event_log, account_id
):
    invoice_id = new_invoice_id()
    bad, good = (Envelope.originate(source="tests", type="invoice.create", subject=invoice_id,
                                    accountid=account_id, actor="user:test") for _ in range(2))
    await asyncio.to_thread(send_in_one_batch, [
        one_batch_record("invoices.commands", bad, valid_body(invoice_id), poisoned=True),
        one_batch_record("invoices.commands", good, valid_body(invoice_id), poisoned=False)])
    created = await event_log.wait_for_type("invoice.created", invoice_id)
    assert created.envelope.causationid == str(good.id)
    dead = await dead_letter_of(event_log, bad)
    assert dead.headers["dlq_reason"] == "invalid_header"
    assert dead.body == valid_body(invoice_id)
    assert dead.headers["ce_\\xff\\xfe"] == "poison"
    assert (await answer_to(event_log, bad)).data["reason"] == "invalid_header"
    await asyncio.sleep(1)
    assert not [r for r in event_log.records if r.topic == "invoices.commands.dlq"
                and r.headers.get("ce_id") == str(good.id)]


async def test_on_numbering_commands_the_allocation_after_an_unreadable_header_name_is_answered(
    services, event_log, account_id
):
    series = f"{account_id}/INV-{{yyyy}}-{{seq:05}}"
    commands = [AllocateNumber(series_key=series, number_format="INV-{yyyy}-{seq:05}", invoice_id=new_invoice_id(),
                               issued_on="2026-11-02") for _ in range(2)]
    bad, good = (Envelope.originate(source="invoices", type=AllocateNumber.type_name, subject=series,
                                    accountid=account_id, actor="service:invoices") for _ in commands)
    await asyncio.to_thread(send_in_one_batch, [
        one_batch_record("numbering.commands", bad, commands[0].model_dump_json().encode(), poisoned=True),
        one_batch_record("numbering.commands", good, commands[1].model_dump_json().encode(), poisoned=False)])
    allocated = await event_log.wait_for(lambda r: r.type == "number.allocated"
                                         and r.data["invoice_id"] == commands[1].invoice_id)
    assert allocated.envelope.causationid == str(good.id)
    dead = await dead_letter_of(event_log, bad, "numbering.commands")
    assert dead.headers["dlq_reason"] == "invalid_header"
    assert json.loads(dead.body) == commands[0].model_dump(mode="json")
    rejected = await event_log.wait_for(lambda r: r.type == "number.rejected" and r.data["command_id"] == str(bad.id))
    assert rejected.data["reason"] == "invalid_header"
