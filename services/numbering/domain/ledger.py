"""The allocation ledger's entries: every number ever handed out, held by its document (an invoice,
or a credit note of an invoice) or a gap.

An entry is the aggregate: it is created when a number is allocated and becomes a gap, with its
reason, when its invoice is deleted. Its id is its sequence key and number, so a number exists
at most once; numbers of a series are allocated by one consumer at a time (the series is the
Kafka key of allocation requests), each the successor of the last.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import computed_field

from chassis.aggregate import Aggregate
from contracts.messages.numbering import NumberAllocated, NumberReleased
from services.numbering.domain.numbers import format_number, sequence_key


def document_of(invoice_id: str, credit_note_id: str | None) -> str:
    """The document a number is for: the invoice, or its credit note (ids hold no `/`)."""
    return invoice_id if credit_note_id is None else f"{invoice_id}/{credit_note_id}"


class LedgerEntry(Aggregate):
    invoice_id: str
    credit_note_id: str | None = None
    account_id: str
    series_key: str
    sequence_key: str
    sequence: int
    number: str
    status: Literal["held", "gap"] = "held"
    allocated_at: datetime
    reason: str | None = None
    released_at: datetime | None = None

    @computed_field
    @property
    def document(self) -> str:
        """One number per document. An entry stored before credit notes has none and is its invoice's."""
        return document_of(self.invoice_id, self.credit_note_id)

    @staticmethod
    def entry_id(sequence_key: str, sequence: int) -> str:
        return f"{sequence_key}#{sequence:012d}"

    @classmethod
    def allocate(cls, *, invoice_id: str, account_id: str, series_key: str, number_format: str, issued_on: date,
                 last_sequence: int, now: datetime, credit_note_id: str | None = None) -> "LedgerEntry":
        """The next number of the series for an invoice, or for a credit note of it."""
        key = sequence_key(series_key, number_format, issued_on)
        sequence = last_sequence + 1
        entry = cls(
            id=cls.entry_id(key, sequence), invoice_id=invoice_id, credit_note_id=credit_note_id,
            account_id=account_id, series_key=series_key,
            sequence_key=key, sequence=sequence, number=format_number(number_format, sequence, issued_on),
            allocated_at=now,
        )
        entry.record(entry.allocated())
        return entry

    def allocated(self) -> NumberAllocated:
        return NumberAllocated(invoice_id=self.invoice_id, credit_note_id=self.credit_note_id,
                               series_key=self.series_key, sequence_key=self.sequence_key,
                               sequence=self.sequence, number=self.number, allocated_at=self.allocated_at)

    def release(self, reason: str, at: datetime) -> bool:
        """The invoice is gone: its number becomes a gap, never reused. False when it is one already."""
        if self.status == "gap":
            return False
        self.status, self.reason, self.released_at = "gap", reason, at
        self.record(NumberReleased(invoice_id=self.invoice_id, credit_note_id=self.credit_note_id,
                                   series_key=self.series_key,
                                   sequence_key=self.sequence_key, sequence=self.sequence, number=self.number,
                                   reason=reason, released_at=at))
        return True
