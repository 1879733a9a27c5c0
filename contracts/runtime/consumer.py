"""Idempotent, never-crashing consumption of CloudEvents, one handler per message type.

For each record: decode it (or dead-letter it, answering a malformed command with a rejection),
skip it when this consumer group handled its id before, run the handler, publish what the
handler emitted, then remember the id. The Kafka offset is committed only after all of that, so
a crash anywhere means redelivery, and redelivery means no second effect.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pymongo.errors import ConnectionFailure

from contracts.envelope import Envelope
from contracts.messages import REGISTRY, MessageData, model_for
from contracts.messages.common import CommandRejected
from contracts.refusals import Refusal
from contracts.runtime.inbox import Inbox
from contracts.runtime.logs import message_context
from contracts.runtime.messaging import Outgoing, Publisher, UndecodableMessage, decode_data, decode_envelope
from contracts.runtime.metrics import MessagingMetrics
from contracts.runtime.settings import ServiceSettings
from contracts.topics import dead_letter_topic

# Infrastructure being down is not the message's fault: do not commit, let Kafka redeliver.
TRANSIENT_ERRORS = (ConnectionFailure, KafkaError, asyncio.TimeoutError)

# Decoding failures after which the sender of a command deserves an answer, not just a DLQ entry.
_ANSWERABLE_REASONS = {"invalid_json", "invalid_data", "subject_mismatch"}
DEAD_LETTER_REASONS = ("invalid_envelope", "unknown_type", *sorted(_ANSWERABLE_REASONS), "handler_error")

M = TypeVar("M", bound=MessageData)


class HandlerContext:
    """What a handler sees of the message it handles, and where it puts what it causes."""

    def __init__(self, envelope: Envelope, data: MessageData | None, source: str,
                 rejection: type[CommandRejected]) -> None:
        self.envelope = envelope
        self.data = data
        self.source = source
        self._rejection = rejection
        self.emitted: list[Outgoing] = []
        self._after_publish: list[Callable[[], Awaitable[Any]]] = []

    @property
    def account_id(self) -> str:
        return self.envelope.accountid

    def emit(self, data: MessageData) -> Outgoing:
        message = Outgoing(
            self.envelope.caused(
                source=self.source, type=data.type_name, subject=data.aggregate_id(), index=len(self.emitted)
            ),
            data,
        )
        self.emitted.append(message)
        return message

    def rejection(self, reason: str, message: str) -> Outgoing:
        """Answer the command with this service's rejection event, keyed like the command's aggregate."""
        key = self._rejection.key_field
        return self.emit(
            self._rejection(
                command_id=str(self.envelope.id),
                command_type=self.envelope.type,
                reason=reason,
                message=message,
                **{key: getattr(self.data, key, None) or self.envelope.subject},
            )
        )

    def after_publish(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Run once the emitted messages are on Kafka (clearing an outbox, typically)."""
        self._after_publish.append(callback)

    async def published(self) -> None:
        for callback in self._after_publish:
            await callback()


Handler = Callable[[HandlerContext, Any], Awaitable[None]]


async def _raw_body(message: KafkaMessage) -> bytes:
    return message.body


class Consumer:
    def __init__(
        self,
        *,
        service: str,
        broker: KafkaBroker,
        publisher: Publisher,
        inbox: Inbox,
        metrics: MessagingMetrics,
        settings: ServiceSettings,
        rejection: type[CommandRejected],
    ) -> None:
        self.service = service
        self.group_id = service
        self.broker = broker
        self.publisher = publisher
        self.inbox = inbox
        self.metrics = metrics
        self.settings = settings
        self.rejection = rejection
        self.handlers: dict[str, Handler] = {}
        self.logger = logging.getLogger(f"{service}.consumer")

    def handles(self, model: type[M]) -> Callable[[Callable[[HandlerContext, M], Awaitable[None]]], Handler]:
        def register(handler: Callable[[HandlerContext, M], Awaitable[None]]) -> Handler:
            self.handlers[model.type_name] = handler
            return handler

        return register

    def topics(self) -> list[str]:
        return sorted({model_for(type_name).topic for type_name in self.handlers})

    def subscribe(self) -> None:
        """One consumer for every topic the handlers need.

        One member per service in its consumer group: separate consumers per topic would each
        join the group, and every join rebalances all of them, stalling consumption for seconds
        whenever any of them starts or stops.
        """
        topics = self.topics()
        for topic in topics:
            # Series that exist at zero from the start: increase() sees the first dead letter.
            for reason in DEAD_LETTER_REASONS:
                self.metrics.dead_lettered.labels(topic, reason)
        handled = "; ".join(
            f"{topic}: {', '.join(sorted(t for t in self.handlers if model_for(t).topic == topic))}" for topic in topics
        )
        self.broker.subscriber(
            *topics,
            group_id=self.group_id,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=f"{self.service}:consume",
            # The chassis decodes and validates itself, so a malformed body reaches on_record
            # (and the dead-letter topic) instead of failing inside FastStream's JSON decoder.
            decoder=_raw_body,
            description=f"Handles {handled}. Other types on these topics are skipped.",
        )(self.on_record)

    async def on_record(self, message: KafkaMessage) -> None:
        record = message.raw_message
        headers = dict(message.headers)
        try:
            envelope = decode_envelope(headers)
            handler = self.handlers.get(envelope.type)
            if handler is None and envelope.type in REGISTRY:
                # Topics are shared by many types; the ones this service does not act on are
                # someone else's business, not an error.
                self.metrics.consumed.labels(record.topic, envelope.type, "ignored").inc()
                return
            data = decode_data(envelope, message.body)
        except UndecodableMessage as error:
            await self._undecodable(record, headers, message.body, error)
            return
        token = message_context.set(
            {"message_id": str(envelope.id), "type": envelope.type, "correlation_id": envelope.correlationid,
             "account_id": envelope.accountid, "subject": envelope.subject}
        )
        try:
            await self._handle(record.topic, envelope, data, handler, record, headers, message.body)
        finally:
            message_context.reset(token)

    async def _handle(self, topic, envelope, data, handler, record, headers, body) -> None:
        if await self.inbox.seen(envelope.id):
            self.metrics.consumed.labels(topic, envelope.type, "duplicate").inc()
            self.logger.info("duplicate message skipped")
            return
        started = time.perf_counter()
        context = await self._run(handler, envelope, data)
        if context is None:
            await self._dead_letter(record, headers, body, "handler_error", "handler failed repeatedly; see logs")
            if data.message_kind == "command":
                context = HandlerContext(envelope, data, self.service, self.rejection)
                context.rejection("internal_error", "The command could not be processed; it was dead-lettered.")
            outcome = "failed"
        else:
            outcome = "handled"
        for outgoing in context.emitted:
            await self.publisher.publish(outgoing)
            if isinstance(outgoing.data, CommandRejected):
                self.metrics.rejected.labels(envelope.type, outgoing.data.reason).inc()
        await context.published()
        await self.inbox.mark(envelope.id, envelope.type)
        self.metrics.consumed.labels(topic, envelope.type, outcome).inc()
        self.metrics.handler_duration.labels(envelope.type).observe(time.perf_counter() - started)

    async def _run(self, handler: Handler, envelope: Envelope, data: MessageData) -> HandlerContext | None:
        """The handler's context after it ran, or None when it failed for a reason of its own.

        Transient infrastructure errors are raised after the retries, so the record is not
        committed and Kafka delivers it again once the infrastructure is back.
        """
        attempts = self.settings.handler_attempts
        for attempt in range(1, attempts + 1):
            context = HandlerContext(envelope, data, self.service, self.rejection)
            try:
                await handler(context, data)
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

    async def _undecodable(self, record, headers: dict[str, str], body: bytes, error: UndecodableMessage) -> None:
        self.logger.warning("undecodable message dead-lettered", extra={"reason": error.reason, "detail": error.detail})
        await self._dead_letter(record, headers, body, error.reason, error.detail)
        envelope = error.envelope
        if (
            envelope is not None
            and error.reason in _ANSWERABLE_REASONS
            and envelope.type in self.handlers
            and model_for(envelope.type).message_kind == "command"
        ):
            context = HandlerContext(envelope, None, self.service, self.rejection)
            rejection = context.rejection(error.reason, error.detail)
            await self.publisher.publish(rejection)
            self.metrics.rejected.labels(envelope.type, error.reason).inc()

    async def _dead_letter(self, record, headers: dict[str, str], body: bytes, reason: str, detail: str) -> None:
        dlq_headers = {
            **headers,
            "dlq_reason": reason,
            "dlq_detail": detail[:2000],
            "dlq_source_topic": record.topic,
            "dlq_source_partition": str(record.partition),
            "dlq_source_offset": str(record.offset),
            "dlq_consumer_group": self.group_id,
            "dlq_time": datetime.now(UTC).isoformat(),
        }
        await self.publisher.publish_raw(dead_letter_topic(record.topic), body, record.key, dlq_headers)
        self.metrics.dead_lettered.labels(record.topic, reason).inc()
        self.metrics.consumed.labels(record.topic, headers.get("ce_type", "unknown"), "dead_lettered").inc()
