"""numbering.commands and numbering.events: gapless, never-reused invoice numbers."""

from datetime import date, datetime

from pydantic import Field

from contracts import topics
from contracts.messages.base import Command, Event, Identifier, message_type
from contracts.messages.common import CommandRejected
from contracts.messages.invoices import NumberFormat


def series_key(account_id: str, number_format: str) -> str:
    """A numbering series: one account's numbers in one format."""
    return f"{account_id}/{number_format}"


@message_type("number.allocate", topic=topics.NUMBERING_COMMANDS, key="series_key")
class AllocateNumber(Command):
    """Ask for the next number of a series for an invoice being finalized. Idempotent per invoice."""

    series_key: str = Field(description="account id / number format; the Kafka key keeps a series on one partition")
    number_format: NumberFormat
    invoice_id: Identifier
    issued_on: date = Field(description="Finalization date; picks the year of per-year formats")


@message_type("number.allocated", topic=topics.NUMBERING_EVENTS, key="invoice_id")
class NumberAllocated(Event):
    invoice_id: Identifier
    series_key: str
    sequence_key: str = Field(description="The counter the number came from: the series, plus the year for per-year formats")
    sequence: int
    number: str
    allocated_at: datetime


@message_type("number.released", topic=topics.NUMBERING_EVENTS, key="invoice_id")
class NumberReleased(Event):
    """A finalized invoice was deleted: its number is a recorded gap, never reused."""

    invoice_id: Identifier
    series_key: str
    sequence_key: str
    sequence: int
    number: str
    reason: str
    released_at: datetime


@message_type("number.rejected", topic=topics.NUMBERING_EVENTS, key="invoice_id")
class NumberRejected(CommandRejected):
    invoice_id: str
