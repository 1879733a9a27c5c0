"""numbering.commands and numbering.events: gapless, never-reused numbers of invoices and of
credit notes. A credit note's number is asked for by the invoice it corrects (`credit_note_id`
beside its `invoice_id`), so the answer is keyed by the invoice and comes back to its partition."""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from contracts import topics
from contracts.messages.base import Command, Event, Identifier, message_type
from contracts.messages.bounds import Day, Moment, Name, QuotedName, Sequence, Text
from contracts.messages.common import CommandRejected, InvoiceNumber

# The parts of a number format in braces: `{yyyy}` / `{yy}` the year, `{mm}` the month, `{seq}` or
# `{seq:0N}` the sequence zero-padded to N digits (services.numbering.domain.numbers renders them).
FORMAT_PART = re.compile(r"\{(yyyy|yy|mm|seq(?::0([1-9]))?)\}")

# A series key, `<account id>/<number format>`, is the subject (at most 200 characters) of every
# allocation: an account id of at most 100 characters leaves room for a format of 60, whose numbers
# (a sequence of up to 16 digits in place of `{seq}`) stay within an invoice number's 80.
MAX_FORMAT_LENGTH = 60


def _one_series(number_format: str) -> str:
    parts = [match.group(1) for match in FORMAT_PART.finditer(number_format)]
    if sum(part.startswith("seq") for part in parts) != 1:
        # The error type is the reason code the rejection carries (see contracts.reasons).
        raise PydanticCustomError("invalid_number_format", "{format!r} must contain exactly one {{seq}} part",
                                  {"format": number_format})
    if "mm" in parts and not ({"yyyy", "yy"} & set(parts)):
        raise PydanticCustomError("invalid_number_format",
                                  "{format!r} has a month but no year: numbers would repeat every year",
                                  {"format": number_format})
    return number_format


NumberFormat = Annotated[
    str,
    StringConstraints(max_length=MAX_FORMAT_LENGTH,
                      pattern=r"^[A-Za-z0-9\-_/.]*(\{(yyyy|yy|mm|seq(:0[1-9])?)\}[A-Za-z0-9\-_/.]*)+$"),
    AfterValidator(_one_series),
    Field(description="Exactly one `{seq}` part, a year wherever there is a month; at most "
                      f"{MAX_FORMAT_LENGTH} characters"),
]
CreditNoteId = Annotated[Identifier | None, Field(description="Set when the number is a credit note's, of the "
                                                               "invoice `invoice_id`")]
SeriesKey = Annotated[Name, Field(description="account id / number format; the Kafka key keeps a series on one "
                                              "partition")]


def series_key(account_id: str, number_format: str) -> str:
    """A numbering series: one account's numbers in one format."""
    return f"{account_id}/{number_format}"


@message_type("number.allocate", topic=topics.NUMBERING_COMMANDS, key="series_key")
class AllocateNumber(Command):
    """Ask for the next number of a series for an invoice being finalized, or for a credit note of
    it being issued. Idempotent per document: the same invoice (or credit note) gets the same number."""

    series_key: SeriesKey
    number_format: NumberFormat
    invoice_id: Identifier
    credit_note_id: CreditNoteId = None
    issued_on: Day = Field(description="Finalization date; picks the year of per-year formats")


@message_type("number.allocated", topic=topics.NUMBERING_EVENTS, key="invoice_id")
class NumberAllocated(Event):
    invoice_id: Identifier
    credit_note_id: CreditNoteId = None
    series_key: SeriesKey
    sequence_key: Name = Field(description="The counter the number came from: the series, plus the year for per-year formats")
    sequence: Sequence
    number: InvoiceNumber
    allocated_at: Moment


@message_type("number.released", topic=topics.NUMBERING_EVENTS, key="invoice_id")
class NumberReleased(Event):
    """A finalized invoice was deleted: its number is a recorded gap, never reused."""

    invoice_id: Identifier
    credit_note_id: CreditNoteId = None
    series_key: SeriesKey
    sequence_key: Name
    sequence: Sequence
    number: InvoiceNumber
    reason: Text
    released_at: Moment


@message_type("number.rejected", topic=topics.NUMBERING_EVENTS, key="invoice_id")
class NumberRejected(CommandRejected):
    invoice_id: QuotedName
    credit_note_id: QuotedName | None = None
