"""Who may act for an account, as the consumer decides it before any handler runs: integrators
only for the accounts granted to them, the platform's own topics for every account, the data's
account only when it is the envelope's; and message ids remembered per account and producer."""

import asyncio
import json
import re
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from aiokafka import ConsumerRecord
from faststream._internal.utils.path import Address
from faststream.kafka.subscriber.usecase import KAFKA_ADDRESS_SYNTAX

from chassis.consumer import Consumer
from chassis.grants import AccessGrants
from chassis.inbox import Inbox, inbox_key
from chassis.metrics import MessagingMetrics
from chassis.settings import ServiceSettings
from chassis.storage.memory import MemoryStore
from contracts import topics
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.access import AccessGranted, AccessRevoked, ApiKeyCreated, grant_key
from contracts.messages.invoices import ConfigureAccount, DeleteInvoice, InvoiceCommandRejected
from contracts.messages.payments import BankTransactionReceived
from contracts.topics import Origin, integrator_topic

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
PLATFORM = Origin(topics.INVOICES_COMMANDS)
CRM = Origin(topics.INVOICES_COMMANDS, "crm")


def granted(integrator: str, account: str) -> AccessGranted:
    return AccessGranted(grant_key=grant_key(integrator, account), integrator=integrator, account_id=account,
                         granted_at=NOW, granted_by="user:ops")


def revoked(integrator: str, account: str) -> AccessRevoked:
    return AccessRevoked(grant_key=grant_key(integrator, account), integrator=integrator, account_id=account,
                         revoked_at=NOW, revoked_by="user:ops")


# --- the rule ------------------------------------------------------------------------------------


async def test_the_platform_acts_for_every_account_and_an_integrator_only_for_the_accounts_granted_to_it():
    grants = AccessGrants(MemoryStore())
    assert grants.allows(PLATFORM, "acct_a") and grants.allows(Origin(topics.API_KEYS_EVENTS), "acct_b")
    assert not grants.allows(CRM, "acct_a")
    await grants.apply(granted("crm", "acct_a"))
    assert grants.allows(CRM, "acct_a")
    assert grants.allows(Origin(topics.PAYMENTS_TRANSACTIONS, "crm"), "acct_a"), "a grant covers every topic of it"
    assert not grants.allows(CRM, "acct_b")
    assert not grants.allows(Origin(topics.INVOICES_COMMANDS, "shop"), "acct_a"), "another integrator's grant"
    await grants.apply(revoked("crm", "acct_a"))
    assert not grants.allows(CRM, "acct_a")


async def test_grants_outlive_a_restart_in_the_services_store():
    store = MemoryStore()
    grants = AccessGrants(store)
    for event in (granted("crm", "acct_a"), granted("crm", "acct_b"), revoked("crm", "acct_b"),
                  granted("shop", "acct_b")):
        await grants.apply(event)
    restarted = AccessGrants(store)
    await restarted.load()
    assert restarted.granted() == {"crm": {"acct_a"}, "shop": {"acct_b"}}
    await restarted.apply(granted("crm", "acct_a"))  # an announcement repeated changes nothing
    assert restarted.granted() == {"crm": {"acct_a"}, "shop": {"acct_b"}}


def test_a_service_that_did_not_opt_in_refuses_every_integrator():
    assert not AccessGrants().allows(CRM, "acct_a")
    assert AccessGrants().allows(PLATFORM, "acct_a")


def test_a_grant_names_its_key():
    with pytest.raises(ValueError, match="grant_key"):
        AccessGranted(grant_key="crm/acct_b", integrator="crm", account_id="acct_a", granted_at=NOW, granted_by="x")
    with pytest.raises(ValueError):
        granted("Not A Name", "acct_a")


# --- the consumer --------------------------------------------------------------------------------


class Published:
    """The publisher's side of the consumer: what it sent, dead-lettered and answered."""

    def __init__(self) -> None:
        self.sent = []
        self.raw = []

    async def send(self, message):
        self.sent.append(message)
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def publish(self, message):
        self.sent.append(message)

    async def publish_raw(self, topic, body, key, headers):
        self.raw.append(SimpleNamespace(topic=topic, body=body, key=key, headers=headers))

    def rejections(self) -> list[tuple[str, str]]:
        return [(m.envelope.accountid, m.data.reason) for m in self.sent if m.envelope.type == "invoice.command_rejected"]


class Harness:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.published = Published()
        self.metrics = MessagingMetrics()
        self.consumer = Consumer(service="invoices", broker=None, publisher=self.published, store=self.store,
                                 inbox=Inbox(self.store, "invoices"), metrics=self.metrics,
                                 settings=ServiceSettings(), rejection=InvoiceCommandRejected)
        self.grants = AccessGrants(self.store)
        self.consumer.grants = self.grants
        self.handled: list[tuple[str, str]] = []
        for model in (ConfigureAccount, DeleteInvoice, BankTransactionReceived, ApiKeyCreated):
            self.consumer.handles(model)(self._handler)
        self.consumer.handles(AccessGranted, first=True)(self._apply)
        self.consumer.handles(AccessRevoked, first=True)(self._apply)
        self.offset = 0

    async def _handler(self, context, data):
        self.handled.append((context.account_id, context.envelope.type))

    async def _apply(self, context, event):
        await self.grants.apply(event)

    def record(self, data: MessageData, *, account: str, topic: str | None = None, message_id: uuid.UUID | None = None,
               body: bytes | None = None) -> tuple[ConsumerRecord, bytes]:
        envelope = Envelope.originate(source="tests", type=data.type_name, subject=data.aggregate_id(),
                                      accountid=account, actor="user:test")
        if message_id is not None:
            envelope = envelope.model_copy(update={"id": message_id})
        headers = [(name, value.encode()) for name, value in envelope.to_headers().items()]
        body = data.model_dump_json().encode() if body is None else body
        self.offset += 1
        record = ConsumerRecord(topic=topic or data.topic, partition=0, offset=self.offset, timestamp=0,
                                timestamp_type=0, key=envelope.subject.encode(), value=body, checksum=None,
                                serialized_key_size=0, serialized_value_size=len(body), headers=headers)
        return record, body

    async def batch(self, *records: tuple[ConsumerRecord, bytes]) -> None:
        await self.consumer.on_batch(SimpleNamespace(raw_message=[r for r, _ in records], body=[b for _, b in records]))

    def counted(self, name: str, **labels) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


def configure(account: str) -> ConfigureAccount:
    return ConfigureAccount(account_id=account, company_name="Acme")


CRM_TOPIC = integrator_topic(topics.INVOICES_COMMANDS, "crm")


async def test_an_integrators_command_acts_only_for_a_granted_account_and_is_answered_otherwise():
    harness = Harness()
    await harness.batch(harness.record(granted("crm", "acct_a"), account="acct_a"))
    await harness.batch(harness.record(configure("acct_a"), account="acct_a", topic=CRM_TOPIC),
                        harness.record(configure("acct_b"), account="acct_b", topic=CRM_TOPIC),
                        harness.record(configure("acct_b"), account="acct_b"))
    assert harness.handled == [("acct_a", "account.configure"), ("acct_b", "account.configure")], \
        "b's own command (from the platform) is handled"
    assert harness.published.rejections() == [("acct_b", "account_not_allowed")]
    assert harness.counted("invoicing_commands_rejected_total", type="account.configure",
                           reason="account_not_allowed") == 1


async def test_grants_of_a_batch_apply_before_its_commands_and_a_revocation_as_well():
    harness = Harness()
    await harness.batch(harness.record(configure("acct_a"), account="acct_a", topic=CRM_TOPIC),
                        harness.record(granted("crm", "acct_a"), account="acct_a"))
    assert ("acct_a", "account.configure") in harness.handled and not harness.published.rejections()
    await harness.batch(harness.record(configure("acct_a"), account="acct_a", topic=CRM_TOPIC),
                        harness.record(revoked("crm", "acct_a"), account="acct_a"))
    assert harness.published.rejections() == [("acct_a", "account_not_allowed")]


async def test_what_cannot_be_answered_is_dead_lettered_to_the_platform_topics_dead_letters():
    harness = Harness()
    topic = integrator_topic(topics.PAYMENTS_TRANSACTIONS, "crm")
    transaction = BankTransactionReceived(transaction_id="tx-1", amount=100, currency="EUR",
                                          iban="DE89370400440532013000", booked_on=NOW.date(),
                                          remittance_information="RF18539007547034")
    await harness.batch(harness.record(transaction, account="acct_b", topic=topic))
    assert harness.handled == []
    [letter] = harness.published.raw
    assert letter.topic == "payments.transactions.dlq"
    assert letter.headers["dlq_reason"] == "account_not_allowed"
    assert letter.headers["dlq_source_topic"] == topic


async def test_a_malformed_command_of_an_integrator_for_an_account_it_is_not_granted_is_refused_for_that():
    harness = Harness()
    await harness.batch(harness.record(configure("acct_b"), account="acct_b", topic=CRM_TOPIC, body=b"{not json"))
    [letter] = harness.published.raw
    assert (letter.topic, letter.headers["dlq_reason"]) == ("invoices.commands.dlq", "account_not_allowed")
    assert "invalid_json" in letter.headers["dlq_detail"]
    assert harness.published.rejections() == [("acct_b", "account_not_allowed")]
    # Granted, the same mistake is answered for what it is.
    await harness.batch(harness.record(granted("crm", "acct_b"), account="acct_b"))
    await harness.batch(harness.record(configure("acct_b"), account="acct_b", topic=CRM_TOPIC, body=b"{not json"))
    assert harness.published.rejections()[-1] == ("acct_b", "invalid_json")


async def test_a_command_whose_data_names_another_account_is_answered_and_an_event_dropped_and_counted():
    harness = Harness()
    await harness.batch(harness.record(configure("acct_a"), account="acct_b"))
    assert harness.published.rejections() == [("acct_b", "account_mismatch")]
    key = ApiKeyCreated(key_id="key_0123456789abcdef", account_id="acct_a", digest="0" * 64, created_at=NOW)
    await harness.batch(harness.record(key, account="acct_b", topic=topics.API_KEYS_EVENTS))
    assert harness.handled == [], "neither reached its handler"
    assert harness.counted("invoicing_messages_dropped_total", type="api_key.created", reason="account_mismatch") == 1
    assert harness.counted("invoicing_messages_consumed_total", topic="api_keys.events", type="api_key.created",
                           outcome="dropped") == 1
    await harness.batch(harness.record(key, account="acct_a", topic=topics.API_KEYS_EVENTS))
    assert harness.handled == [("acct_a", "api_key.created")]


# --- message ids per account and producer --------------------------------------------------------


async def test_a_message_id_is_spent_per_account_and_per_producer():
    harness = Harness()
    await harness.batch(harness.record(granted("crm", "acct_a"), account="acct_a"),
                        harness.record(granted("shop", "acct_a"), account="acct_a"))
    shared = uuid.uuid4()
    shop_topic = integrator_topic(topics.INVOICES_COMMANDS, "shop")
    sends = [("acct_b", None), ("acct_a", None), ("acct_a", CRM_TOPIC), ("acct_a", shop_topic)]
    for account, topic in sends:
        await harness.batch(harness.record(configure(account), account=account, topic=topic, message_id=shared))
    assert harness.handled == [(account, "account.configure") for account, _ in sends], \
        "the same id from another account, and from each producer, is a message of its own"
    for account, topic in sends:  # redelivered: no second effect
        await harness.batch(harness.record(configure(account), account=account, topic=topic, message_id=shared))
    assert len(harness.handled) == len(sends)


def test_inbox_keys_tell_every_group_account_and_producer_apart():
    message = uuid.UUID("00000000-0000-0000-0000-000000000001")
    keys = {
        inbox_key("invoices", message, Origin("invoices.commands"), "acct_a"),
        inbox_key("invoices", message, Origin("invoices.commands"), "acct_b"),
        inbox_key("invoices", message, Origin("invoices.commands", "crm"), "acct_a"),
        inbox_key("invoices", message, Origin("payments.commands", "crm"), "acct_a") + "x",
        inbox_key("payments", message, Origin("invoices.commands"), "acct_a"),
        # "platform" may be an integrator's name; it is not the platform.
        inbox_key("invoices", message, Origin("invoices.commands", "platform"), "acct_a"),
        # An account id may hold a colon, but only the account comes after the producer.
        inbox_key("invoices", message, Origin("invoices.commands", "crm"), "a:b"),
        inbox_key("invoices", message, Origin("invoices.commands"), "crm:a:b"),
    }
    assert len(keys) == 8
    assert inbox_key("invoices", message, Origin("invoices.commands", "crm"), "acct_a") == inbox_key(
        "invoices", message, Origin("payments.transactions", "crm"), "acct_a"), "one producer: one namespace"


# --- the subscription ----------------------------------------------------------------------------


def test_the_subscription_reaches_the_broker_as_written_and_covers_integrators_topics():
    from services.invoices.app import create_app

    [subscriber] = create_app().broker.subscribers
    pattern = subscriber.pattern.broker_address
    assert pattern == topics.subscription_pattern(topics.SERVICES["invoices"].reads)
    assert Address(pattern, KAFKA_ADDRESS_SYNTAX).broker_address == pattern, "FastStream left the regex alone"
    for topic in ("invoices.commands", "invoices.commands.from.crm-sync", "access.events", "api_keys.events"):
        assert re.fullmatch(pattern, topic), topic
    for topic in ("invoices.commands.dlq", "invoices.commands.from.Bad", "payments.commands.from.crm",
                  "invoices.events", "invoices.commands.from.crm.dlq"):
        assert not re.fullmatch(pattern, topic), topic


def test_a_grant_travels_keyed_by_integrator_and_account():
    event = granted("crm", "acct_a")
    assert (event.topic, event.aggregate_id()) == ("access.events", "crm/acct_a")
    assert json.loads(event.model_dump_json())["integrator"] == "crm"
