"""What every message type declares, and the registry that maps a CloudEvents `type` to it."""

import re
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

# Ids chosen by callers (invoice ids, payment ids, transaction ids): printable, no spaces, so
# they are safe as Kafka keys, MongoDB ids and URL path segments.
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$")]

Kind = Literal["command", "event"]


class MessageData(BaseModel):
    """The `data` of a CloudEvent. Subclasses are registered with @message_type."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type_name: ClassVar[str]
    topic: ClassVar[str]
    message_kind: ClassVar[Kind]
    key_field: ClassVar[str]
    internal: ClassVar[bool] = False

    def aggregate_id(self) -> str:
        """The aggregate id: the CloudEvents subject and the Kafka record key."""
        return str(getattr(self, self.key_field))


class Command(MessageData):
    # Commands are strict: a misspelt field is a mistake the sender should hear about, not
    # something to drop silently. Events stay lenient so producers can add fields.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(MessageData):
    pass


REGISTRY: dict[str, type[MessageData]] = {}


def message_type(type_name: str, *, topic: str, key: str, internal: bool = False):
    """Register a model as the data of CloudEvents `type_name`, published on `topic`.

    An `internal` command is one step of a flow the platform runs itself (a balance crediting an
    invoice, a revision settling its original): its consumer refuses it from an integrator's topic
    (`internal_command`), so no integrator can mint credit or settle an invoice by sending it."""
    if not re.fullmatch(r"[a-z_]+\.[a-z_]+", type_name):
        raise ValueError(f"bad message type name {type_name!r}")

    def register(cls: type[MessageData]) -> type[MessageData]:
        if type_name in REGISTRY:
            raise ValueError(f"message type {type_name!r} registered twice")
        if key not in cls.model_fields:
            raise ValueError(f"{cls.__name__} has no key field {key!r}")
        cls.type_name = type_name
        cls.topic = topic
        cls.message_kind = "command" if issubclass(cls, Command) else "event"
        cls.key_field = key
        cls.internal = internal
        REGISTRY[type_name] = cls
        return cls

    return register


class UnknownMessageType(LookupError):
    pass


def model_for(type_name: str) -> type[MessageData]:
    try:
        return REGISTRY[type_name]
    except KeyError:
        raise UnknownMessageType(f"unknown message type {type_name!r}") from None
