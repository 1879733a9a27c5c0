"""Messages as they cross Kafka: encoding, decoding, and publishing with metrics."""

import json
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from contracts.envelope import Envelope, InvalidEnvelope, describe_validation_error
from contracts.messages import MessageData, model_for
from contracts.messages.base import UnknownMessageType
from contracts.runtime.metrics import MessagingMetrics


@dataclass(frozen=True)
class Outgoing:
    envelope: Envelope
    data: MessageData

    @property
    def topic(self) -> str:
        return self.data.topic

    def body(self) -> bytes:
        return self.data.model_dump_json().encode()

    def to_document(self) -> dict[str, Any]:
        """A form MongoDB can store in an outbox, and from_document can restore."""
        return {
            "headers": self.envelope.to_headers(),
            "body": self.data.model_dump(mode="json"),
        }

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> "Outgoing":
        envelope = Envelope.from_headers(document["headers"])
        return cls(envelope, model_for(envelope.type).model_validate(document["body"]))


class UndecodableMessage(ValueError):
    """A record that is not a valid message of this platform. `reason` is a stable code."""

    def __init__(self, reason: str, detail: str, envelope: Envelope | None = None) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.envelope = envelope


def decode_envelope(headers: dict[str, str]) -> Envelope:
    try:
        return Envelope.from_headers(headers)
    except InvalidEnvelope as error:
        raise UndecodableMessage("invalid_envelope", str(error)) from error


def decode_data(envelope: Envelope, body: bytes) -> MessageData:
    try:
        model = model_for(envelope.type)
    except UnknownMessageType as error:
        raise UndecodableMessage("unknown_type", str(error), envelope) from error
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UndecodableMessage("invalid_json", str(error), envelope) from error
    try:
        data = model.model_validate(payload)
    except ValidationError as error:
        raise UndecodableMessage("invalid_data", describe_validation_error(error), envelope) from error
    if data.aggregate_id() != envelope.subject:
        raise UndecodableMessage(
            "subject_mismatch",
            f"subject {envelope.subject!r} does not name the message's {model.key_field} {data.aggregate_id()!r}",
            envelope,
        )
    return data


class Publisher:
    def __init__(self, broker: KafkaBroker, metrics: MessagingMetrics) -> None:
        self.broker = broker
        self.metrics = metrics

    async def publish(self, message: Outgoing) -> None:
        await self.broker.publish(
            message.body(),
            topic=message.topic,
            key=message.envelope.subject.encode(),
            headers=message.envelope.to_headers(),
            correlation_id=message.envelope.correlationid,
        )
        self.metrics.published.labels(message.topic, message.envelope.type).inc()

    async def publish_raw(self, topic: str, body: bytes, key: bytes | None, headers: dict[str, str]) -> None:
        await self.broker.publish(body, topic=topic, key=key, headers=headers)
