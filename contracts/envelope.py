"""The CloudEvents 1.0 envelope in Kafka's protocol binding, binary content mode.

Binary mode, for the whole platform: context attributes travel as `ce_*` record headers, the
record value is the JSON `data` alone and the record key is the aggregate id. Consumers can route
and deduplicate on headers without parsing the body, and the body is the plain JSON document that
contracts/schemas describes.
"""

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
HEADER_PREFIX = "ce_"

NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=200)]

# Deterministic ids for events caused by a message: the same input yields the same output ids,
# so a handler that runs again after a crash republishes identical events and downstream
# consumers drop them as duplicates.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c2b8e-4f0a-4d36-9a57-3c1d2e0b9a11")


class Envelope(BaseModel):
    """CloudEvents context attributes, with the platform's extensions (accountid, correlationid, causationid, actor)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: str = SPEC_VERSION
    id: uuid.UUID
    source: NonEmpty
    type: NonEmpty
    subject: NonEmpty
    time: datetime
    datacontenttype: str = CONTENT_TYPE
    accountid: NonEmpty = Field(description="Tenant that owns the aggregate")
    correlationid: NonEmpty = Field(description="Shared by every message of one business flow")
    causationid: str | None = Field(
        default=None,
        description="Id of the message that caused this one; a message that starts a flow (a command from "
                    "outside, a timer's) names itself",
    )
    actor: NonEmpty = Field(description="Who asked: a user id or a service name")

    def caused(self, *, source: str, type: str, subject: str, index: int) -> "Envelope":
        """The envelope of the index-th message this one causes, within the same flow."""
        return Envelope(
            id=uuid.uuid5(_EVENT_ID_NAMESPACE, f"{self.id}:{index}:{type}:{subject}"),
            source=source,
            type=type,
            subject=subject,
            time=datetime.now(UTC),
            accountid=self.accountid,
            correlationid=self.correlationid,
            causationid=str(self.id),
            actor=self.actor,
        )

    @classmethod
    def originate(cls, *, source: str, type: str, subject: str, accountid: str, actor: str,
                  id: uuid.UUID | None = None, correlationid: str | None = None) -> "Envelope":
        """The envelope of a message that starts a new flow (a command from outside, a timer).

        Nothing caused it but itself, so its causationid is its own id (every record the platform
        publishes carries every attribute, and a chain of causes ends at a message naming itself).
        A message that answers a record is made with `caused` instead. `id` for a sender that
        names its messages deterministically (so a retry is a duplicate), `correlationid` for one
        that groups them (a bulk run); by default both are a new id.
        """
        message_id = id or uuid.uuid4()
        return cls(
            id=message_id,
            source=source,
            type=type,
            subject=subject,
            time=datetime.now(UTC),
            accountid=accountid,
            correlationid=correlationid or str(message_id),
            causationid=str(message_id),
            actor=actor,
        )

    def to_headers(self) -> dict[str, str]:
        headers = {
            f"{HEADER_PREFIX}{name}": _header_value(value)
            for name, value in self.model_dump(exclude={"datacontenttype"}).items()
            if value is not None
        }
        headers["content-type"] = self.datacontenttype
        return headers

    @classmethod
    def from_headers(cls, headers: dict[str, str]) -> "Envelope":
        """Raise InvalidEnvelope when a required attribute is missing or malformed."""
        attributes = {
            name.removeprefix(HEADER_PREFIX): value
            for name, value in headers.items()
            if name.startswith(HEADER_PREFIX)
        }
        if "content-type" in headers:
            attributes["datacontenttype"] = headers["content-type"]
        try:
            envelope = cls.model_validate(attributes)
        except ValidationError as error:
            raise InvalidEnvelope(describe_validation_error(error)) from error
        if envelope.specversion != SPEC_VERSION:
            raise InvalidEnvelope(f"unsupported specversion {envelope.specversion!r}")
        if not envelope.datacontenttype.startswith(CONTENT_TYPE):
            raise InvalidEnvelope(f"unsupported content-type {envelope.datacontenttype!r}")
        return envelope


class InvalidEnvelope(ValueError):
    """The record's headers are not a valid CloudEvent of this platform."""


def _header_value(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def describe_validation_error(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in issue['loc']) or 'message'}: {issue['msg']}"
        for issue in error.errors(include_url=False)
    )
