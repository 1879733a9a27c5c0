"""Messages as they cross Kafka: encoding, decoding, and publishing with metrics."""

import asyncio
from dataclasses import dataclass
from typing import Any, get_args

from faststream.kafka import KafkaBroker
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from chassis.metrics import MessagingMetrics
from contracts.envelope import Envelope, InvalidEnvelope, describe_validation_error
from contracts.limits import MAX_RECORD_BYTES, record_size
from contracts.messages import MessageData, model_for
from contracts.messages.base import UnknownMessageType
from contracts.reasons import REASONS


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


def check_size(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes | None]]) -> None:
    """A record larger than contracts.limits.MAX_RECORD_BYTES is undecodable (`too_large`)."""
    size = record_size(key, value, headers)
    if size > MAX_RECORD_BYTES:
        raise UndecodableMessage("too_large", f"the record has {size} bytes, more than {MAX_RECORD_BYTES}")


def decode_headers(raw: list[tuple[str, bytes | None]]) -> dict[str, str]:
    """Record headers as text; a name or value that is not UTF-8 makes the record undecodable.

    A name arrives as text with its undecodable bytes as surrogate escapes
    (chassis.unreadable.read_undecodable_header_names), which do not encode back."""
    headers = {}
    for name, value in raw:
        if not name.isascii():
            try:
                name.encode()
            except UnicodeEncodeError as error:
                raise UndecodableMessage(
                    "invalid_header", f"header name {_readable_name(name)!r} is not valid UTF-8 (byte {error.start})"
                ) from error
        try:
            headers[name] = value.decode() if value is not None else ""
        except UnicodeDecodeError as error:
            raise UndecodableMessage(
                "invalid_header", f"header {name!r} is not valid UTF-8 ({error.reason} at byte {error.start})"
            ) from error
    return headers


def readable_headers(raw: list[tuple[str, bytes | None]]) -> dict[str, str]:
    """Headers as text even where their names or values are not UTF-8 (undecodable bytes
    escaped as \\xNN), for dead letters and for answering the sender of a record whose headers
    are broken."""
    return {_readable_name(name): value.decode(errors="backslashreplace") if value is not None else ""
            for name, value in raw}


def _readable_name(name: str) -> str:
    return name if name.isascii() else name.encode(errors="surrogateescape").decode(errors="backslashreplace")


def decode_envelope(headers: dict[str, str]) -> Envelope:
    try:
        return Envelope.from_headers(headers)
    except InvalidEnvelope as error:
        raise UndecodableMessage("invalid_envelope", str(error)) from error


def model_on_topic(envelope: Envelope, topic: str) -> type[MessageData]:
    """The model of the envelope's type, which must travel on `topic`."""
    try:
        model = model_for(envelope.type)
    except UnknownMessageType as error:
        raise UndecodableMessage("unknown_type", str(error), envelope) from error
    if model.topic != topic:
        raise UndecodableMessage(
            "wrong_topic", f"{envelope.type} belongs on {model.topic}, not on {topic}", envelope
        )
    return model


# pydantic-core's parser stops at its limits with these errors (contracts.limits).
_PARSER_LIMITS = {"recursion limit exceeded": "too_deep", "number out of range": "number_too_large"}
# How pydantic's validate_json starts the message of a document its parser refused.
_INVALID_JSON = "Invalid JSON: "


def decode_data(envelope: Envelope, model: type[MessageData], body: bytes | None) -> MessageData:
    """The record value as the model's data; raises UndecodableMessage for anything else.

    The bytes are parsed and validated in one pass (model_validate_json). Its parser also takes
    NaN and Infinity, which are no JSON: a body that holds those letters at all (rare: a text
    may) is first read by the strict parser, which refuses them as literals.

    Whatever a validator raises is the data's fault (`invalid_data`), whatever its class:
    pydantic wraps ValueError and AssertionError, not the OverflowError or RecursionError that a
    hostile value may cause deeper down."""
    body = body or b""
    if b"NaN" in body or b"Infinity" in body:
        try:
            from_json(body, allow_inf_nan=False)
        except ValueError as error:
            raise _not_json(str(error), envelope) from error
    try:
        data = model.model_validate_json(body)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        if first["type"] == "json_invalid":
            raise _not_json(first["msg"].removeprefix(_INVALID_JSON), envelope) from error
        raise UndecodableMessage(_validation_reason(error), describe_validation_error(error), envelope) from error
    except Exception as error:
        raise UndecodableMessage("invalid_data", f"{type(error).__name__}: {error}", envelope) from error
    if data.aggregate_id() != envelope.subject:
        raise UndecodableMessage(
            "subject_mismatch",
            f"subject {envelope.subject!r} does not name the message's {model.key_field} {data.aggregate_id()!r}",
            envelope,
        )
    return data


def _not_json(message: str, envelope: Envelope) -> UndecodableMessage:
    reason = next((code for start, code in _PARSER_LIMITS.items() if message.startswith(start)), "invalid_json")
    return UndecodableMessage(reason, message, envelope)


def foreign_account(data: MessageData, account_id: str) -> str | None:
    """An account the data names itself (its `account_id`, or the `account_id` of a value it
    carries: an invoice snapshot) that is not `account_id`, the envelope's; None when there is
    none (chassis.consumer)."""
    for path in _account_paths(type(data)):
        value = data
        for name in path:
            value = getattr(value, name, None)
        if value is not None and value != account_id:
            return value
    return None


_ACCOUNT_PATHS: dict[type, tuple[tuple[str, ...], ...]] = {}


def _account_paths(model: type[BaseModel]) -> tuple[tuple[str, ...], ...]:
    """Where a model's data names an account: ("account_id",), ("invoice", "account_id"), ..."""
    paths = _ACCOUNT_PATHS.get(model)
    if paths is None:
        found = []
        for name, field in model.model_fields.items():
            if name == "account_id":
                found.append((name,))
            for candidate in (field.annotation, *get_args(field.annotation)):
                if isinstance(candidate, type) and issubclass(candidate, BaseModel) and "account_id" in candidate.model_fields:
                    found.append((name, "account_id"))
                    break
        paths = _ACCOUNT_PATHS[model] = tuple(found)
    return paths


def _validation_reason(error: ValidationError) -> str:
    """A rule-specific code when a validator raised one (its error type), else invalid_data."""
    for issue in error.errors(include_url=False):
        if issue["type"] in REASONS:
            return issue["type"]
    return "invalid_data"


class Publisher:
    def __init__(self, broker: KafkaBroker, metrics: MessagingMetrics) -> None:
        self.broker = broker
        self.metrics = metrics

    async def publish(self, message: Outgoing) -> None:
        """Publish and wait until the broker has it."""
        await (await self.send(message))

    async def send(self, message: Outgoing) -> "asyncio.Future":
        """Hand the message to the producer, in the order of the calls, without waiting for the
        broker: the returned future is done once the broker has the message (await all of a
        batch's at once)."""
        delivery = await self.broker.publish(
            message.body(),
            topic=message.topic,
            key=message.envelope.subject.encode(),
            headers=message.envelope.to_headers(),
            correlation_id=message.envelope.correlationid,
            no_confirm=True,
        )
        self.metrics.published.labels(message.topic, message.envelope.type).inc()
        return delivery

    async def publish_raw(self, topic: str, body: bytes, key: bytes | None, headers: dict[str, str]) -> None:
        await self.broker.publish(body, topic=topic, key=key, headers=headers)
