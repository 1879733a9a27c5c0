"""The four services in memory, for unit tests of their handlers, alone or across services.

Each service is put together by its own `app.assemble`, the function create_app serves, on an
in-memory store; only its HTTP side and its background loops are left out. In place of Kafka
there is one log of records. A message sent is encoded as a record (CloudEvents headers, JSON
body) on its topic and handed to `Consumer.on_batch` of every service subscribed to the topic,
so what production does with a record happens here too: decoding, the trust checks, the inbox,
the handler and its unit of work, publishing, clearing the outboxes, remembering the id. What a
service publishes goes into the log and, by default, on to the services that read it, until
nothing new comes: configure, create, finalize (numbering answers), send (the mailer queues the
mail; delivering it is the mailer's loop, not run here) and pay (payments matches a transfer)
run as one flow.

    platform = Platform()                    # or Platform("numbering") for one service
    caused = await platform.send(FinalizeInvoice(invoice_id="inv_1"))   # everything it caused
    platform.invoices.fail_once("invoices", "update")   # the next such write raises, once
    platform.payments.crash_at("payments", "insert")    # kill -9 at that write
    platform.numbering.crash_before_publishing()        # kill -9 between commit and publish
    await platform.recover()                 # restart: relay the outboxes, redeliver the record

A failed write raises a store error the consumer retries, as a database that is away for a
moment. A crash stops everything at that point: nothing after it runs, the record is not
remembered as handled, and `recover` does what a restarted service and Kafka do: it publishes
what the outboxes hold and delivers the record again. `store.writes` lists every write a
service made, and `store.fault_points()` names each so that a test can fail them in turn.
"""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from aiokafka import ConsumerRecord
from psycopg import OperationalError

from chassis.messaging import Outgoing
from chassis.service import Service
from chassis.storage import CollectionSpec
from chassis.storage.memory import MemoryDocuments, MemoryStore
from contracts.envelope import Envelope
from contracts.messages import MessageData, model_for
from contracts.topics import DLQ_SUFFIX, subscription_pattern
from services.invoices.app import assemble as assemble_invoices
from services.invoices.settings import InvoicesSettings
from services.mailer.app import assemble as assemble_mailer
from services.mailer.settings import MailerSettings
from services.numbering.app import assemble as assemble_numbering
from services.numbering.settings import NumberingSettings
from services.payments.app import assemble as assemble_payments
from services.payments.settings import PaymentsSettings

ACCOUNT = "acct"

# A failing handler is retried at once, and the mailer does not wait for an account it does not
# know; no Kafka login (a test stack's environment names a password file that may not exist yet).
_QUICK = {"handler_retry_base_seconds": 0, "kafka_security_protocol": "PLAINTEXT"}
# The invoices service's secret for hosted page tokens, and the public address its links start with.
HOSTED_LINKS = {"hosted_link_secret": "harness-secret-of-this-deployment-0123456789",
                "public_url": "https://billing.example.com"}
ASSEMBLIES: dict[str, Callable[[Any], Service]] = {
    "invoices": lambda store: assemble_invoices(InvoicesSettings(**_QUICK, **HOSTED_LINKS), store)[0],
    "numbering": lambda store: assemble_numbering(NumberingSettings(**_QUICK), store)[0],
    "payments": lambda store: assemble_payments(PaymentsSettings(**_QUICK), store)[0],
    "mailer": lambda store: assemble_mailer(MailerSettings(**_QUICK, account_wait_seconds=0), store),
}

WRITES = ("insert", "insert_new", "update", "set_fields", "delete", "delete_where")


class Crash(BaseException):
    """The process dies here (kill -9): no handler, retry or consumer code runs after it."""


@dataclass
class Fault:
    collection: str
    operation: str
    error: Callable[[], BaseException]
    skip: int = 0


@dataclass
class Write:
    collection: str
    operation: str
    ids: list[str]


class FaultyStore(MemoryStore):
    """The in-memory store, with every write listed and a write made to fail when a test asks."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[Write] = []
        self.faults: list[Fault] = []

    def collection(self, spec: CollectionSpec) -> MemoryDocuments:
        return self.collections.setdefault(spec.name, FaultyDocuments(spec, self))

    def fault_points(self) -> list[tuple[str, str, int]]:
        """Each write made so far as (collection, operation, skip): what `fail_once` and `crash_at`
        take to fail that very write when the same messages run again on a fresh platform."""
        made = [(write.collection, write.operation) for write in self.writes]
        return [(*write, made[:n].count(write)) for n, write in enumerate(made)]

    def before(self, collection: str, operation: str, ids: list[str]) -> None:
        for fault in list(self.faults):
            if (fault.collection, fault.operation) != (collection, operation):
                continue
            if fault.skip:
                fault.skip -= 1
                continue
            self.faults.remove(fault)
            raise fault.error()
        self.writes.append(Write(collection, operation, ids))


class FaultyDocuments(MemoryDocuments):
    def __init__(self, spec: CollectionSpec, store: FaultyStore) -> None:
        super().__init__(spec)
        self.store = store

    async def insert(self, document):
        self.store.before(self.spec.name, "insert", [document["id"]])
        await super().insert(document)

    async def insert_new(self, documents):
        self.store.before(self.spec.name, "insert_new", [document["id"] for document in documents])
        for document in documents:
            if document["id"] not in self.rows:
                await MemoryDocuments.insert(self, document)

    async def update(self, document, expected_version):
        self.store.before(self.spec.name, "update", [document["id"]])
        await super().update(document, expected_version)

    async def set_fields(self, document_ids, fields):
        self.store.before(self.spec.name, "set_fields", list(document_ids))
        await super().set_fields(document_ids, fields)

    async def delete(self, document_id):
        self.store.before(self.spec.name, "delete", [document_id])
        await super().delete(document_id)

    async def delete_where(self, where):
        self.store.before(self.spec.name, "delete_where", [])
        return await super().delete_where(where)


@dataclass
class Record:
    topic: str
    key: bytes | None
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, message: Outgoing, topic: str | None = None) -> "Record":
        """The record a producer writes for the message, keyed by its subject."""
        return cls(topic or message.topic, message.envelope.subject.encode(), message.envelope.to_headers(),
                   message.body())

    def message(self) -> Outgoing:
        envelope = Envelope.from_headers(self.headers)
        return Outgoing(envelope, model_for(envelope.type).model_validate_json(self.body))

    def consumer_record(self, offset: int) -> ConsumerRecord:
        headers = [(name, value.encode()) for name, value in self.headers.items()]
        return ConsumerRecord(topic=self.topic, partition=0, offset=offset, timestamp=0, timestamp_type=0,
                              key=self.key, value=self.body, checksum=None, serialized_key_size=0,
                              serialized_value_size=len(self.body), headers=headers)


class Producer:
    """Stands in for a service's Kafka client behind its own Publisher: a record it publishes is
    on the log at once."""

    def __init__(self, platform: "Platform") -> None:
        self.platform = platform
        self.crash_next = False

    async def publish(self, body: bytes, *, topic: str, key: bytes | None, headers: dict[str, str],
                      **_: Any) -> asyncio.Future:
        if self.crash_next:
            self.crash_next = False
            raise Crash("kill -9 before publishing")
        self.platform.records.append(Record(topic, key, dict(headers), body))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


class ServiceInMemory:
    def __init__(self, name: str, platform: "Platform") -> None:
        self.name = name
        self.store = FaultyStore()
        self.service = ASSEMBLIES[name](self.store)
        self.producer = self.service.publisher.broker = Producer(platform)
        self.consumer = self.service.consumer
        self.subscription = re.compile(subscription_pattern(self.consumer.topics()))

    def reads(self, topic: str) -> bool:
        return bool(self.subscription.fullmatch(topic))

    def fail_once(self, collection: str, operation: str = "update", *, skip: int = 0,
                  error: Callable[[], BaseException] = lambda: OperationalError("injected: the store is away")) -> None:
        """The next `operation` on `collection` (after `skip` of them) raises, once: by default a
        store error, which the consumer retries like a database away for a moment."""
        assert operation in WRITES, operation
        self.store.faults.append(Fault(collection, operation, error, skip))

    def crash_at(self, collection: str, operation: str = "update", *, skip: int = 0) -> None:
        """The process dies at that write, before it is made (see `Platform.recover`)."""
        self.fail_once(collection, operation, skip=skip, error=lambda: Crash(f"kill -9 at {collection}.{operation}"))

    def crash_before_publishing(self) -> None:
        """The process dies after its next commit, before the first record of it is on Kafka."""
        self.producer.crash_next = True

    def dropped(self, type_name: str, reason: str) -> float:
        return self.consumer.metrics.dropped.labels(type_name, reason)._value.get()

    async def take(self, record: Record, offset: int) -> bool:
        """Hand the record to the consumer as a batch of one. False when it did not get through:
        the process crashed, or the store stayed away past the consumer's retries (Kafka delivers it
        again either way)."""
        got_through = True
        try:
            await self.consumer.on_batch(SimpleNamespace(raw_message=[record.consumer_record(offset)],
                                                         body=[record.body]))
        except* (Crash, OperationalError):
            got_through = False
        return got_through


@dataclass
class Undelivered:
    service: ServiceInMemory
    record: Record


class Platform:
    """The services named (all four by default), joined by one log of records."""

    def __init__(self, *names: str) -> None:
        self.records: list[Record] = []
        self.undelivered: list[Undelivered] = []
        self.services = {name: ServiceInMemory(name, self) for name in names or ASSEMBLIES}

    def __getattr__(self, name: str) -> ServiceInMemory:
        services = self.__dict__.get("services", {})
        if name in services:
            return services[name]
        raise AttributeError(name)

    @property
    def published(self) -> list[Outgoing]:
        """Every message on the log, in order (dead letters aside: `dead_letters`)."""
        return [record.message() for record in self.records if not record.topic.endswith(DLQ_SUFFIX)]

    @property
    def dead_letters(self) -> list[Record]:
        return [record for record in self.records if record.topic.endswith(DLQ_SUFFIX)]

    def envelope(self, data: MessageData, account: str = ACCOUNT, actor: str = "user:test") -> Envelope:
        return Envelope.originate(source="tests", type=data.type_name, subject=data.aggregate_id(),
                                  accountid=account, actor=actor)

    async def send(self, data: MessageData, account: str = ACCOUNT, *, actor: str = "user:test",
                   envelope: Envelope | None = None, topic: str | None = None, follow: bool = True) -> list[Outgoing]:
        """Publish a message as a producer of `account` would (on its topic, or `topic`: an
        integrator's copy) and deliver it; what it caused, and with `follow` what that caused in
        turn, all services over."""
        record = Record.of(Outgoing(envelope or self.envelope(data, account, actor), data), topic)
        self.records.append(record)
        return await self._deliver([(record, None)], follow)

    async def redeliver(self, message: Outgoing, to: str, *, follow: bool = True) -> list[Outgoing]:
        """The same record again, to one service (as Kafka does when its offset was not committed)."""
        return await self._deliver([(Record.of(message), self.services[to])], follow)

    async def recover(self, *, follow: bool = True) -> list[Outgoing]:
        """What follows a crash: each service that did not get a record through starts again (it
        publishes what its outboxes hold, as at every start) and is given the record again. What was
        published, the relayed messages first. Call it before sending that service anything else:
        Kafka gives it the record again before the ones that follow."""
        waiting, self.undelivered = self.undelivered, []
        start = len(self.records)
        for service in {id(u.service): u.service for u in waiting}.values():
            service.service.store.forget_copies()  # a new process: nothing cached
            await service.service._relay_outboxes()
        relayed = self.records[start:]
        caused = await self._deliver([*((r, None) for r in relayed), *((u.record, u.service) for u in waiting)],
                                     follow)
        return [record.message() for record in relayed] + caused

    async def _deliver(self, queue: list[tuple[Record, ServiceInMemory | None]], follow: bool) -> list[Outgoing]:
        caused: list[Record] = []
        while queue:
            record, target = queue.pop(0)
            for service in [target] if target else self.services.values():
                if target is None and not service.reads(record.topic):
                    continue
                start = len(self.records)
                if not await service.take(record, offset=start):
                    self.undelivered.append(Undelivered(service, record))
                published = [r for r in self.records[start:] if not r.topic.endswith(DLQ_SUFFIX)]
                caused += published
                if follow:
                    queue += [(r, None) for r in published]
            if len(caused) > 10_000:
                raise AssertionError("the services keep answering each other")
        return [record.message() for record in caused]


def of_type(messages: list[Outgoing], type_name: str) -> list[MessageData]:
    return [message.data for message in messages if message.data.type_name == type_name]


def only(messages: list[Outgoing], type_name: str) -> MessageData:
    [found] = of_type(messages, type_name)
    return found
