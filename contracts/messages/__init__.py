"""Every message type of the platform, registered by its CloudEvents `type`."""

from contracts.messages import access, balances, credit_notes, invoices, mail, numbering, payments  # noqa: F401  (registers types)
from contracts.messages.base import REGISTRY, Command, Event, MessageData, UnknownMessageType, model_for

__all__ = ["REGISTRY", "Command", "Event", "MessageData", "UnknownMessageType", "model_for"]
