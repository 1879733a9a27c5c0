"""Integrators on the real stack: an integrator's topics created while the services run are read
within seconds; what it sends acts only for the accounts an operator granted it (`invoicing
integrators grant`), and from the revocation on not even for those; message ids are remembered
per account and producer; and an API key announced for another account than its envelope's does
not authenticate."""

import asyncio
import json
import time
import uuid
from datetime import date
from pathlib import Path

import httpx
import pytest

from contracts import topics
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.access import ApiKeyCreated
from contracts.messages.invoices import FinalizeInvoice
from contracts.messages.payments import BankTransactionReceived, RecordPayment
from tests.integration.factories import PAYEE_IBAN, create_invoice
from tests.integration.harness import REPO, Producer, env, internal_url
from tests.integration.test_hostile_records import one_batch_record, send_in_one_batch
from tests.integration.test_read_api import accepted_everywhere, invoicing, new_key, read


def new_id(prefix: str = "inv") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


class Integrator:
    """An integrator as it runs outside the platform: its own principal, which writes its own topics only."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.principal = f"integrator.{name}"
        self.producer = Producer(env("KAFKA_BOOTSTRAP_SERVERS"), principal=self.principal)

    async def create_topics(self) -> None:
        """Onboarding, as an operator of the stack does it: the Kafka user, its topics and their ACLs
        (deploy/stack.sh integrator), then the integrator logs in."""
        onboarding = await asyncio.create_subprocess_exec(
            "bash", str(REPO / "deploy/stack.sh"), "integrator", self.name, cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        output, _ = await onboarding.communicate()
        assert onboarding.returncode == 0, output.decode()
        await self.producer.start()

    def environment(self) -> dict[str, str]:
        """The Kafka settings of a process that acts as this integrator."""
        return {"KAFKA_SASL_USERNAME": self.principal, "KAFKA_SASL_PASSWORD": "",
                "KAFKA_SASL_PASSWORD_FILE": str(Path(env("KAFKA_CREDENTIALS_DIR")) / f"{self.principal}.password")}

    async def send(self, data: MessageData, *, account_id: str, message_id: uuid.UUID | None = None) -> Envelope:
        envelope = Envelope.originate(source=f"integrator:{self.name}", type=data.type_name,
                                      subject=data.aggregate_id(), accountid=account_id, actor=f"system:{self.name}")
        if message_id is not None:
            envelope = envelope.model_copy(update={"id": message_id})
        await self.producer.send_raw(topics.integrator_topic(data.topic, self.name), envelope.subject,
                                     envelope.to_headers(), data.model_dump_json().encode())
        return envelope


@pytest.fixture
async def integrator(services):
    integrator = Integrator(f"it-{uuid.uuid4().hex[:8]}")
    yield integrator
    await integrator.producer.stop()


async def cli(*args: str) -> None:
    done = await invoicing(*args, "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert done.returncode == 0, done.stderr


async def answer_to(event_log, command: Envelope, timeout: float = 30):
    return await event_log.wait_for(lambda r: r.caused_by(command), timeout)


async def until_answered(event_log, integrator: Integrator, account: str, reason: str) -> float:
    """Probe with a command that changes nothing (finalizing an invoice that does not exist) until
    its answer says `reason`: unknown_invoice while the integrator may act for the account,
    account_not_allowed once it may not. Returns the seconds it took."""
    started = time.monotonic()
    while True:
        probe = await integrator.send(FinalizeInvoice(invoice_id=new_id("missing")), account_id=account)
        answer = await answer_to(event_log, probe)
        if answer.data["reason"] == reason:
            return time.monotonic() - started
        assert time.monotonic() - started < 30, f"still {answer.data['reason']} after 30 s"
        await asyncio.sleep(0.3)


async def test_an_integrator_acts_for_the_accounts_granted_to_it_and_only_until_revoked(
    services, producer, event_log, integrator
):
    a, b = (f"acct_{name}_{uuid.uuid4().hex[:8]}" for name in "ab")
    created_at = time.monotonic()
    await integrator.create_topics()
    # Its first record is on a topic the services have never seen: they find it, from its start.
    first = await integrator.send(FinalizeInvoice(invoice_id=new_id("missing")), account_id=a)
    assert (await answer_to(event_log, first)).data["reason"] == "account_not_allowed"
    discovered = time.monotonic() - created_at
    print(f"\nan integrator's new topic was read {discovered:.1f} s after it was created")
    assert discovered < 20

    await cli("integrators", "grant", integrator.name, "--account", a)
    granted_after = await until_answered(event_log, integrator, a, "unknown_invoice")
    print(f"a grant took effect within {granted_after:.1f} s")

    mine = new_id()
    command = await integrator.send(create_invoice(mine), account_id=a)
    created = await answer_to(event_log, command)
    assert created.type == "invoice.created" and created.envelope.accountid == a

    theirs = new_id()
    command = await integrator.send(create_invoice(theirs), account_id=b)
    rejected = await answer_to(event_log, command)
    assert (rejected.type, rejected.data["reason"], rejected.envelope.accountid) == (
        "invoice.command_rejected", "account_not_allowed", b)
    payment = await integrator.send(RecordPayment(invoice_id=theirs, payment_id="pay-1", amount=100, currency="EUR",
                                                  paid_on=date.today()), account_id=b)
    rejected = await answer_to(event_log, payment)
    assert (rejected.type, rejected.data["reason"]) == ("payment.rejected", "account_not_allowed")
    # A bank transaction has no one to answer: dead-lettered with the platform topic's, naming its own.
    transaction = BankTransactionReceived(transaction_id=new_id("tx"), iban=PAYEE_IBAN, amount=100, currency="EUR",
                                          booked_on=date.today(), remittance_information="forged")
    sent = await integrator.send(transaction, account_id=b)
    letter = await event_log.wait_for(lambda r: r.topic == "payments.transactions.dlq"
                                      and r.headers.get("ce_id") == str(sent.id))
    assert letter.headers["dlq_reason"] == "account_not_allowed"
    assert letter.headers["dlq_source_topic"] == f"payments.transactions.from.{integrator.name}"
    # b's state is as before: no invoice, no payment, no transaction.
    key_b = (await new_key(b))["key"]
    await accepted_everywhere(key_b)
    assert (await read("invoices", f"/v1/invoices/{theirs}", key_b)).status_code == 404
    assert (await read("invoices", "/v1/invoices", key_b)).json()["data"] == []
    assert (await read("payments", f"/v1/invoices/{theirs}/payments", key_b)).status_code == 404
    assert (await read("payments", "/v1/payments/unmatched", key_b)).json()["data"] == []

    listed = await invoicing("integrators", "list", "--integrator", integrator.name, "--json",
                             "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert listed.returncode == 0, listed.stderr
    assert [(g["account_id"], g["granted"]) for g in json.loads(listed.stdout)] == [(a, True)]

    await cli("integrators", "revoke", integrator.name, "--account", a)
    revoked_after = await until_answered(event_log, integrator, a, "account_not_allowed")
    print(f"a revocation took effect within {revoked_after:.1f} s")
    late = new_id()
    command = await integrator.send(create_invoice(late), account_id=a)
    assert (await answer_to(event_log, command)).data["reason"] == "account_not_allowed"
    key_a = (await new_key(a))["key"]
    await accepted_everywhere(key_a)
    assert [invoice["id"] for invoice in (await read("invoices", "/v1/invoices", key_a)).json()["data"]] == [mine]
    listed = await invoicing("integrators", "list", "--integrator", integrator.name, "--revoked", "--json",
                             "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert [(g["account_id"], g["granted"]) for g in json.loads(listed.stdout)] == [(a, False)]


async def test_one_message_id_is_handled_once_per_account_and_producer(services, producer, event_log, integrator):
    a, b = (f"acct_{name}_{uuid.uuid4().hex[:8]}" for name in "ab")
    await integrator.create_topics()
    await cli("integrators", "grant", integrator.name, "--account", a)
    await until_answered(event_log, integrator, a, "unknown_invoice")
    shared = uuid.uuid4()
    sends = [
        (a, lambda data: producer.send(data, account_id=a, envelope=envelope_with(data, a, shared))),
        (b, lambda data: producer.send(data, account_id=b, envelope=envelope_with(data, b, shared))),
        (a, lambda data: integrator.send(data, account_id=a, message_id=shared)),
    ]
    invoice_ids = []
    for account, send in sends:
        invoice_id = new_id()
        invoice_ids.append(invoice_id)
        await send(create_invoice(invoice_id))
        created = await event_log.wait_for_type("invoice.created", invoice_id)
        assert created.envelope.accountid == account
    # The same id on the same account from the same producer is a redelivery: no second effect.
    again = new_id()
    await producer.send(create_invoice(again), account_id=b, envelope=envelope_with(create_invoice(again), b, shared))
    probe = await producer.send(FinalizeInvoice(invoice_id=new_id("missing")), account_id=b)
    await answer_to(event_log, probe)
    assert not event_log.of_type("invoice.created", again)


def envelope_with(data: MessageData, account: str, message_id: uuid.UUID) -> Envelope:
    return Envelope.originate(source="tests", type=data.type_name, subject=data.aggregate_id(), accountid=account,
                              actor="user:test").model_copy(update={"id": message_id})


async def test_an_api_key_announced_for_another_account_than_its_envelope_does_not_authenticate(
    services, producer, event_log
):
    victim, forger = (f"acct_{name}_{uuid.uuid4().hex[:8]}" for name in ("victim", "forger"))
    key_id = f"key_{uuid.uuid4().hex[:16]}"
    key = f"{key_id}.forged-secret"
    forged = ApiKeyCreated(key_id=key_id, account_id=victim, digest=_digest(key), created_at="2026-12-02T12:00:00Z")
    before = {service: await _dropped(service) for service in ("invoices", "payments", "numbering")}
    await producer.send(forged, account_id=forger)
    for service in before:
        for _ in range(100):
            if await _dropped(service) > before[service]:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"{service} did not count the forged key as dropped")
    # Every reading service has consumed it, and the key reads nothing anywhere.
    await accepted_everywhere(key, accepted=False)


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()


async def _dropped(service: str) -> float:
    async with httpx.AsyncClient(timeout=5) as client:
        text = (await client.get(internal_url(service, "/metrics"))).text
    for line in text.splitlines():
        if line.startswith("invoicing_messages_dropped_total{") and 'type="api_key.created"' in line \
                and 'reason="account_mismatch"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_an_integrators_topic_is_watched_and_guarded_like_the_platforms(services, producer, event_log, integrator):
    """A record the Kafka client cannot read does not stop the integrator's partition, and the
    consumer's progress (lag, stalls: /readyz) covers the integrator's topics."""
    account = f"acct_{uuid.uuid4().hex[:12]}"
    await integrator.create_topics()
    await cli("integrators", "grant", integrator.name, "--account", account)
    await until_answered(event_log, integrator, account, "unknown_invoice")
    topic = topics.integrator_topic(topics.INVOICES_COMMANDS, integrator.name)
    invoice_id = new_id()
    unreadable = Envelope.originate(source=f"integrator:{integrator.name}", type="invoice.create", subject=invoice_id,
                                    accountid=account, actor=f"system:{integrator.name}")
    body = create_invoice(invoice_id).model_dump_json().encode()
    await asyncio.to_thread(send_in_one_batch, [one_batch_record(topic, unreadable, body, poisoned=True)])
    dead = await event_log.wait_for(
        lambda r: r.topic == "invoices.commands.dlq" and r.headers.get("dlq_source_topic") == topic
        and r.headers.get("ce_id") == str(unreadable.id))
    assert dead.headers["dlq_reason"] == "invalid_header" and dead.body == body
    command = await integrator.send(create_invoice(invoice_id), account_id=account)
    assert (await answer_to(event_log, command)).type == "invoice.created"
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(50):
            metrics = (await client.get(internal_url("invoices", "/metrics"))).text
            if f'invoicing_consumer_lag_records{{partition="0",topic="{topic}"}} 0.0' in metrics:
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"invoices reports no progress of {topic}")
        assert (await client.get(internal_url("invoices", "/readyz"))).status_code == 200
