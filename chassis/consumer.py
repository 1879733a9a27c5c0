"""Idempotent, never-crashing consumption of CloudEvents, one handler per message type.

Records come in batches. Each is decoded (or dead-lettered, a malformed command answered with a
rejection), skipped when this consumer group handled its id before (for the same account and from
the same producer, chassis.inbox), checked against its account, and handed to its handler; what
handlers emit is published, the outboxes cleared and the ids remembered once per batch. The
Kafka offsets are committed only after all of that, so a crash anywhere means redelivery, and
redelivery means no second effect.

Who sent a record is told by its topic (contracts.topics.origin_of): the consumer subscribes to
the platform topics it needs and to every integrator's copy of them, found as they are created.
Two checks stand before any handler, and a message that fails one has no effect (a command is
answered with a rejection, an event is dropped and counted, or dead-lettered where nobody can be
answered):

- `account_not_allowed`: a record of an integrator's topic acts only for the accounts granted
  to that integrator (chassis.grants.AccessGrants.allows);
- `account_mismatch`: an account the data names (its `account_id`, an invoice snapshot's) must
  be the envelope's (`ce_accountid`);
- `internal_command`: a command the platform sends itself (`message_type(internal=True)`) is
  refused from an integrator's topic.
"""

import asyncio
import dataclasses
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaRouter
from faststream.kafka.prometheus import KafkaPrometheusMiddleware

from chassis.context import HandlerContext, clear_outboxes, run_handler
from chassis.grants import AccessGrants
from chassis.inbox import Inbox
from chassis.logs import message_context
from chassis.messaging import (
    Publisher,
    UndecodableMessage,
    check_size,
    decode_data,
    decode_envelope,
    decode_headers,
    foreign_account,
    model_on_topic,
    readable_headers,
)
from chassis.metrics import MessagingMetrics, type_label
from chassis.offsets import PartitionOffsets
from chassis.settings import ServiceSettings
from chassis.storage import STORE_UNAVAILABLE, Store
from chassis.unit_of_work import AlreadyHandled
from chassis.unreadable import parse_despite_undecodable_headers, read_undecodable_header_names, readable_envelope
from contracts.envelope import Envelope
from contracts.limits import MAX_RECORD_BYTES, record_size
from contracts.messages import REGISTRY, MessageData, model_for
from contracts.messages.common import CommandRejected
from contracts.reasons import REASONS, codes_for
from contracts.refusals import Refusal
from contracts.topics import (
    INTEGRATOR_WRITABLE,
    MISROUTED_COMMANDS_ANSWERED_BY,
    Origin,
    dead_letter_topic,
    origin_of,
    subscription_pattern,
)

# Infrastructure being down is not the message's fault: do not commit, let Kafka redeliver.
TRANSIENT_ERRORS = (*STORE_UNAVAILABLE, KafkaError, asyncio.TimeoutError)

DEAD_LETTER_REASONS = codes_for("dead_letter")

# How soon a consumer sees a topic created after it subscribed (a new integrator's): the Kafka
# client refreshes its metadata this often, and a topic that matches the subscription's pattern
# joins the assignment at the next refresh.
TOPIC_DISCOVERY_MS = 5000

# What a dead letter keeps of a record too large to publish again whole (chassis.consumer
# _dead_letter), within the producer's limit with room for the dlq_* headers.
DEAD_LETTER_HEADROOM = 16_384
SHORTENED_VALUE_BYTES = MAX_RECORD_BYTES // 2
SHORTENED_PART_BYTES = 1024
SHORTENED_HEADERS = 64

# Topics are few; their origin is read once each.
_origin = functools.lru_cache(maxsize=4096)(origin_of)

M = TypeVar("M", bound=MessageData)


def _not_allowed(origin: Origin) -> str:
    return f"The integrator {origin.integrator!r} may not act for this account."


Handler = Callable[[HandlerContext, Any], Awaitable[None]]
OrderedBy = Literal["aggregate", "account"]


@dataclasses.dataclass(frozen=True)
class Decoded:
    record: ConsumerRecord
    body: bytes
    envelope: Envelope
    data: MessageData
    handler: Handler
    # The first account the data names that is not the envelope's, if any.
    foreign_account: str | None = None
    # (group, message id, origin, account): chassis.inbox
    inbox_key: str = ""

    @functools.cached_property
    def origin(self) -> Origin:
        return _origin(self.record.topic)


@dataclasses.dataclass
class Batch:
    """What one batch causes, to be finished once all of it is handled."""

    already: set[str]
    sends: list[asyncio.Future] = dataclasses.field(default_factory=list)
    contexts: list[HandlerContext] = dataclasses.field(default_factory=list)
    handled: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def _header(headers: list[tuple[str, bytes | None]], name: str) -> bytes | None:
    """The value of a record's header (its last, as chassis.messaging.decode_headers keeps)."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return found


async def _raw_body(message: KafkaMessage) -> bytes:
    return message.body


class _ForgetCopiesOnRevocation(ConsumerRebalanceListener):
    """A partition taken away may be another consumer's now, which writes its aggregates: the
    copies this one kept (chassis.storage.cached) would only be behind, so they are dropped, all
    of them (a rebalance is rare, and a copy does not name its partition)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if revoked:
            self.store.forget_copies()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass


class Consumer:
    def __init__(
        self,
        *,
        service: str,
        broker: KafkaBroker,
        publisher: Publisher,
        store: Store,
        inbox: Inbox,
        metrics: MessagingMetrics,
        settings: ServiceSettings,
        rejection: type[CommandRejected],
        in_order_per: "OrderedBy" = "aggregate",
    ) -> None:
        self.service = service
        self.in_order_per = in_order_per
        self.group_id = service
        self.broker = broker
        self.publisher = publisher
        self.store = store
        self.inbox = inbox
        self.metrics = metrics
        self.settings = settings
        self.rejection = rejection
        self.handlers: dict[str, Handler] = {}
        self.fallbacks: dict[str, Handler] = {}
        self.first: set[str] = set()
        self.answered_events: set[str] = set()
        # No grant known: integrators' records are refused until the service opts in
        # (chassis.grants.integrator_grants).
        self.grants = AccessGrants()
        self.offsets = PartitionOffsets()
        self._ignored: dict[str, dict[bytes, Any]] = {}
        self.logger = logging.getLogger(f"{service}.consumer")

    def handles(
        self, model: type[M], *, first: bool = False
    ) -> Callable[[Callable[[HandlerContext, M], Awaitable[None]]], Handler]:
        """Register the handler of a message type. `first`: messages of this type are handled
        before the rest of any batch they come in, one after the other (grants, which decide
        whether the rest may act)."""

        def register(handler: Callable[[HandlerContext, M], Awaitable[None]]) -> Handler:
            self.handlers[model.type_name] = handler
            if first:
                self.first.add(model.type_name)
            return handler

        return register

    def when_dead_lettered(
        self, model: type[M]
    ) -> Callable[[Callable[[HandlerContext, M], Awaitable[None]]], Handler]:
        """Runs after an event's handler kept failing and the event was dead-lettered, so the
        aggregate can leave the state that waited for it (a command is answered instead)."""

        def register(fallback: Callable[[HandlerContext, M], Awaitable[None]]) -> Handler:
            self.fallbacks[model.type_name] = fallback
            return fallback

        return register

    def answers_undecodable(self, model: type[MessageData]) -> None:
        """Answer an event of this type that cannot be decoded as if it were a command: after it is
        dead-lettered, this service's rejection names its id, type and subject, with the reason. For
        events whose sender waits to hear what became of them (a bank transaction: the bank feed
        learns it was refused, not only an operator reading the dead letters)."""
        self.answered_events.add(model.type_name)

    def topics(self) -> list[str]:
        return sorted({model_for(type_name).topic for type_name in self.handlers})

    def subscribe(self) -> None:
        """One consumer for every topic the handlers need, and every integrator's copy of them.

        One member per service in its consumer group: separate consumers per topic would each
        join the group, and every join rebalances all of them, stalling consumption for seconds
        whenever any of them starts or stops. The subscription is a pattern
        (contracts.topics.subscription_pattern), so an integrator's topic created later is read
        from its first record within TOPIC_DISCOVERY_MS or so.
        """
        read_undecodable_header_names()
        topics = self.topics()
        for topic in topics:
            # Series that exist at zero from the start: increase() sees the first dead letter.
            for reason in DEAD_LETTER_REASONS:
                self.metrics.dead_lettered.labels(topic, reason)
        handled = "; ".join(
            f"{topic}{' (and every ' + topic + '.from.<integrator>)' if topic in INTEGRATOR_WRITABLE else ''}: "
            f"{', '.join(sorted(t for t in self.handlers if model_for(t).topic == topic))}"
            for topic in topics
        )
        # FastStream's own metrics (faststream_received_*) wrap the consumption alone: as a
        # broker middleware they would also time every publish, a third of its CPU
        # (bench/consume.py), for what invoicing_messages_published counts already.
        subscriptions = KafkaRouter(middlewares=[KafkaPrometheusMiddleware(registry=self.metrics.registry,
                                                                           app_name=self.service)])
        subscriptions.subscriber(
            pattern=subscription_pattern(topics),
            group_id=self.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=self.settings.consume_batch_size,
            batch_timeout_ms=self.settings.consume_batch_timeout_ms,
            fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms,
            fetch_min_bytes=self.settings.kafka_fetch_min_bytes,
            title=f"{self.service}:consume",
            # The chassis decodes and validates itself, so a malformed body reaches on_batch
            # (and the dead-letter topic) instead of failing inside FastStream's JSON decoder.
            decoder=_raw_body,
            parser=self._parse,
            description=f"Handles {handled}. Other types on these topics are skipped.",
            listener=_ForgetCopiesOnRevocation(self.store),
        )(self.on_batch)
        self.broker.include_router(subscriptions)

    async def _parse(self, records: tuple[ConsumerRecord, ...], parse) -> KafkaMessage:
        """FastStream's message for a batch, whose ack commits only the batch's partitions
        (chassis.offsets)."""
        message = await parse_despite_undecodable_headers(records, parse)
        message.consumer = self.offsets.for_batch(message.consumer, records)
        return message

    async def on_batch(self, message: KafkaMessage) -> None:
        """Handle a batch: records of different keys concurrently, of one key in order; the
        types registered `first` (grants) before all the others, and the records that cannot be
        decoded after those.

        What handlers emit is sent without waiting; once the whole batch is on Kafka the
        outboxes are cleared (one write per collection) and the batch's message ids remembered (one
        write), together in one round trip where the store allows (Store.together), and only then
        does FastStream commit the batch's offsets (chassis.offsets). A failure before that makes
        Kafka deliver the batch again, and a redelivery has no second effect.
        """
        decoded_records: list[Decoded] = []
        undecodable: list[tuple[ConsumerRecord, bytes, UndecodableMessage]] = []
        for record, body in zip(message.raw_message, message.body, strict=True):
            try:
                decoded = self._decode(record, body)
            except UndecodableMessage as error:
                undecodable.append((record, body, error))
                continue
            except Exception as error:
                # Decoding is ours, and no record may stop the partition, whatever it makes fail.
                self.logger.exception("decoding failed")
                undecodable.append((record, body, UndecodableMessage("undecodable", f"{type(error).__name__}: {error}")))
                continue
            if decoded is not None:
                decoded_records.append(decoded)
        batch = Batch(already=await self.inbox.seen_among([d.inbox_key for d in decoded_records])
                      if decoded_records else set())
        # Grants first, in the batch's order: the rest of the batch is judged by them.
        for decoded in decoded_records:
            if decoded.envelope.type in self.first:
                await self._handle_in_order([decoded], batch)
        for record, body, error in undecodable:
            await self._undecodable(record, body, error)
        if not decoded_records:
            return
        by_key: dict[Any, list[Decoded]] = {}
        for decoded in decoded_records:
            if decoded.envelope.type not in self.first:
                by_key.setdefault(self._order_key(decoded), []).append(decoded)
        async with asyncio.TaskGroup() as tasks:
            for group in by_key.values():
                tasks.create_task(self._handle_in_order(group, batch))
        await asyncio.gather(*batch.sends)
        async with self.store.together():
            await clear_outboxes(batch.contexts)
            await self.inbox.mark_all(batch.handled)

    def _order_key(self, decoded: "Decoded") -> Any:
        """Messages with one order key are handled one after the other, in the batch's order.

        A record key names one aggregate on every topic it appears on, so by default each
        aggregate's messages stay in order and different aggregates go concurrently. A service
        whose messages about different aggregates must meet (payments: a transfer and the
        invoice it names, which arrive on different topics under different keys) keeps the
        order per account instead.
        """
        if self.in_order_per == "account":
            return decoded.envelope.accountid
        record = decoded.record
        return record.key if record.key is not None else (record.topic, record.partition)

    def _decode(self, record: ConsumerRecord, body: bytes) -> "Decoded | None":
        """The record as a message for a handler; None when it is not for this service. Raises
        UndecodableMessage (the caller dead-letters it, and answers a command).

        Topics are shared by many types; a record whose `ce_type` header names one that travels
        on its topic and that this service does not act on is someone else's business, not an
        error: it is skipped before anything of it is decoded (a service reads many more such
        records than its own). Any other type goes the whole way, to a dead letter if it is not
        a valid message."""
        origin = _origin(record.topic)
        topic = origin.topic
        ignored = self._ignored_on(topic).get(_header(record.headers, "ce_type"))
        if ignored is not None:
            ignored.inc()
            return None
        check_size(record.key, body, record.headers)
        envelope = decode_envelope(decode_headers(record.headers))
        model = model_on_topic(envelope, topic)
        handler = self.handlers[envelope.type]
        data = decode_data(envelope, model, body)
        return Decoded(record, body, envelope, data, handler, foreign_account(data, envelope.accountid),
                       self.inbox.key(envelope.id, origin, envelope.accountid))

    def _ignored_on(self, topic: str) -> dict[bytes, Any]:
        """The `ce_type` values of the types on `topic` that this service does not handle, each
        with its counter of ignored records."""
        ignored = self._ignored.get(topic)
        if ignored is None:
            ignored = self._ignored[topic] = {
                type_name.encode(): self.metrics.consumed.labels(topic, type_name, "ignored")
                for type_name, model in REGISTRY.items() if model.topic == topic and type_name not in self.handlers
            }
        return ignored

    async def _handle_in_order(self, group: list["Decoded"], batch: "Batch") -> None:
        for decoded in group:
            envelope = decoded.envelope
            token = message_context.set(
                {"message_id": str(envelope.id), "type": envelope.type, "correlation_id": envelope.correlationid,
                 "account_id": envelope.accountid, "subject": envelope.subject}
            )
            try:
                await self._handle(decoded, batch)
            finally:
                message_context.reset(token)

    async def _handle(self, decoded: "Decoded", batch: "Batch") -> None:
        topic, envelope, data = decoded.origin.topic, decoded.envelope, decoded.data
        key = decoded.inbox_key
        if key in batch.already:
            self.metrics.consumed.labels(topic, envelope.type, "duplicate").inc()
            self.logger.info("duplicate message skipped")
            return
        started = time.perf_counter()
        refusal = self._refusal(decoded)
        if refusal is not None:
            context, outcome = await self._refuse(decoded, *refusal)
        else:
            context = await self._run(decoded.handler, envelope, data)
            outcome = "handled"
            if context is None:
                await self._dead_letter(decoded.record, decoded.body, "handler_error",
                                        "handler failed repeatedly; see logs")
                context = await self._give_up(envelope, data)
                outcome = "failed"
        for outgoing in context.emitted:
            batch.sends.append(await self.publisher.send(outgoing))
            if isinstance(outgoing.data, CommandRejected):
                self.metrics.rejected.labels(envelope.type, outgoing.data.reason).inc()
        batch.contexts.append(context)
        batch.handled.append((key, envelope.type))
        self.metrics.consumed.labels(topic, envelope.type, outcome).inc()
        self.metrics.handler_duration.labels(envelope.type).observe(time.perf_counter() - started)

    def _refusal(self, decoded: "Decoded") -> tuple[str, str] | None:
        """Why the message may have no effect, as (reason, sentence), or None: its producer is
        not allowed its account or, being an integrator, an internal command, or its data names
        another account than its envelope."""
        origin, account = decoded.origin, decoded.envelope.accountid
        if not self.grants.allows(origin, account):
            return "account_not_allowed", _not_allowed(origin)
        if decoded.data.internal and origin.integrator is not None:
            return "internal_command", (f"{decoded.envelope.type} is a step the platform takes itself; an "
                                        "integrator may not send it.")
        if decoded.foreign_account is not None:
            return "account_mismatch", (f"The data names account {decoded.foreign_account!r}, not the message's "
                                        "account.")
        return None

    async def _refuse(self, decoded: "Decoded", reason: str, sentence: str) -> tuple[HandlerContext, str]:
        """No effect: a command is answered; an event is dead-lettered when its producer was not
        allowed (somebody must see it), else logged and counted as dropped."""
        envelope, data = decoded.envelope, decoded.data
        context = HandlerContext(envelope, data, self.service, self.rejection)
        extra = {"reason": reason, "detail": sentence, "topic": decoded.record.topic}
        if data.message_kind == "command":
            self.logger.warning("command refused", extra=extra)
            context.rejection(reason, sentence)
            return context, "refused"
        if reason == "account_not_allowed":
            self.logger.warning("event dead-lettered", extra=extra)
            await self._dead_letter(decoded.record, decoded.body, reason, sentence)
            return context, "refused"
        self.logger.warning("event dropped", extra=extra)
        self.metrics.dropped.labels(envelope.type, reason).inc()
        return context, "dropped"

    async def _give_up(self, envelope: Envelope, data: MessageData) -> HandlerContext:
        """What follows a dead-lettered message: a command is answered; an event's fallback, if
        the service has one, lets the aggregate move on."""
        if data.message_kind == "command":
            context = HandlerContext(envelope, data, self.service, self.rejection)
            context.rejection("internal_error", "The command could not be processed; it was dead-lettered.")
            return context
        fallback = self.fallbacks.get(envelope.type)
        context = await self._run(fallback, envelope, data) if fallback else None
        return context or HandlerContext(envelope, data, self.service, self.rejection)

    async def _run(self, handler: Handler, envelope: Envelope, data: MessageData) -> HandlerContext | None:
        """The handler's context after it ran, or None when it failed for a reason of its own.

        Transient infrastructure errors are raised after the retries, so the record is not
        committed and Kafka delivers it again once the infrastructure is back.
        """
        attempts = self.settings.handler_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await run_handler(handler, data, lambda recall: HandlerContext(
                    envelope, data, self.service, self.rejection, recall=recall))
            except AlreadyHandled as handled:
                # A redelivery: no second effect; publish again what may not have been published.
                context = HandlerContext(envelope, data, self.service, self.rejection)
                context.republish(handled.repository, handled.pending, handled.aggregate_id)
                return context
            except Refusal as refusal:
                context = HandlerContext(envelope, data, self.service, self.rejection)
                if data.message_kind == "command":
                    context.rejection(refusal.reason, refusal.message)
                else:
                    self.logger.warning("event not applied", extra={"reason": refusal.reason, "detail": refusal.message})
                return context
            except TRANSIENT_ERRORS:
                if attempt == attempts:
                    raise
                self.logger.warning("transient failure, retrying", exc_info=True, extra={"attempt": attempt})
            except Exception:
                self.logger.exception("handler failed", extra={"attempt": attempt})
                if attempt == attempts:
                    return None
            await asyncio.sleep(self.settings.handler_retry_base_seconds * 2 ** (attempt - 1))
        return None

    async def _undecodable(self, record: ConsumerRecord, body: bytes, error: UndecodableMessage) -> None:
        """Dead-letter it, and answer a command. One from an integrator that is not allowed the
        account it names is refused for that, whatever else is wrong with it."""
        envelope = error.envelope or readable_envelope(record)
        origin = _origin(record.topic)
        reason, answer, detail = error.reason, error.detail, error.detail
        if envelope is not None and not self.grants.allows(origin, envelope.accountid):
            reason = "account_not_allowed"
            answer = _not_allowed(origin)
            detail = f"{answer} The record is not valid either: {error.reason}: {error.detail}"
        self.logger.warning("undecodable message dead-lettered", extra={"reason": reason, "detail": detail})
        await self._dead_letter(record, body, reason, detail)
        if envelope is not None and self._answers(envelope, origin.topic, error.reason):
            context = HandlerContext(envelope, None, self.service, self.rejection)
            rejection = context.rejection(reason, answer)
            await self.publisher.publish(rejection)
            self.metrics.rejected.labels(envelope.type, reason).inc()

    def _answers(self, envelope: Envelope, topic: str, reason: str) -> bool:
        """Whether this service answers a command it could not decode: its own commands, and a
        command misrouted to a topic this service is the designated answerer of (exactly one
        service answers, even on a topic that several read)."""
        if "rejection" not in REASONS[reason].uses or envelope.type not in REGISTRY:
            return False
        if model_for(envelope.type).message_kind != "command" and envelope.type not in self.answered_events:
            return False
        if reason == "wrong_topic":
            return MISROUTED_COMMANDS_ANSWERED_BY[topic] == self.service
        return envelope.type in self.handlers

    async def _dead_letter(self, record: ConsumerRecord, body: bytes, reason: str, detail: str) -> None:
        key, headers = record.key, readable_headers(record.headers)
        position = TopicPartition(record.topic, record.partition)
        dlq_headers = self._dead_letter_headers(position, record.offset, reason, detail)
        size = record_size(key, body, record.headers)
        if size > MAX_RECORD_BYTES - DEAD_LETTER_HEADROOM:
            # Too large to publish again whole (a compressed record unpacks to any size): the
            # dead letter keeps the start of each part, and says how large the record was.
            key, body = key[:SHORTENED_PART_BYTES] if key else key, (body or b"")[:SHORTENED_VALUE_BYTES]
            headers = {name[:SHORTENED_PART_BYTES]: value[:SHORTENED_PART_BYTES]
                       for name, value in list(headers.items())[:SHORTENED_HEADERS]}
            dlq_headers["dlq_shortened_from_bytes"] = str(size)
        await self.publisher.publish_raw(dead_letter_topic(record.topic), body, key, headers | dlq_headers)
        # Labelled by the platform topic: one series per topic, however many integrators write it.
        topic = _origin(record.topic).topic
        self.metrics.dead_lettered.labels(topic, reason).inc()
        self.metrics.consumed.labels(topic, type_label(headers.get("ce_type")), "dead_lettered").inc()

    def _dead_letter_headers(self, source: TopicPartition, offset: int, reason: str, detail: str) -> dict[str, str]:
        return {
            "dlq_reason": reason,
            "dlq_detail": detail[:2000],
            "dlq_source_topic": source.topic,
            "dlq_source_partition": str(source.partition),
            "dlq_source_offset": str(offset),
            "dlq_consumer_group": self.group_id,
            "dlq_time": datetime.now(UTC).isoformat(),
        }
