"""The continuity of a numbering series: proof that no number went missing. Pure rules, no I/O.

Every number of a sequence from 1 to the last one handed out must be held by its document (an
invoice, or a credit note of one) or be a gap with the reason it became one. Anything else is a
break, flagged with what is wrong: a number with no ledger entry at all (missing), or a gap nobody
explained. A series with a per-year (or per-month) format has one sequence per period, each
starting at 1, so a report has one section per sequence.
"""

from collections.abc import Iterable
from datetime import datetime
from itertools import groupby
from typing import Literal

from pydantic import BaseModel, computed_field

from services.numbering.domain.ledger import LedgerEntry


class Gap(BaseModel):
    sequence: int
    number: str
    invoice_id: str
    credit_note_id: str | None = None
    reason: str | None
    released_at: datetime | None


class Break(BaseModel):
    """Numbers `first` to `last` (one number when they are equal) that break continuity."""

    first: int
    last: int
    problem: Literal["missing", "gap_without_reason"]
    detail: str

    @property
    def numbers(self) -> int:
        return self.last - self.first + 1


class SequenceContinuity(BaseModel):
    sequence_key: str
    first: int
    last: int
    held: int
    gaps: list[Gap]
    flagged: list[Break]

    @computed_field
    @property
    def breaks(self) -> int:
        """How many numbers are neither held nor an explained gap."""
        return sum(flag.numbers for flag in self.flagged)


class ContinuityReport(BaseModel):
    series_key: str
    sequences: list[SequenceContinuity]

    @computed_field
    @property
    def breaks(self) -> int:
        return sum(sequence.breaks for sequence in self.sequences)


def sequence_continuity(sequence_key: str, entries: Iterable[LedgerEntry]) -> SequenceContinuity:
    """The continuity of one sequence from its ledger entries (any order)."""
    entries = sorted(entries, key=lambda entry: entry.sequence)
    flagged: list[Break] = []
    expected = 1
    for entry in entries:
        if entry.sequence > expected:
            flagged.append(Break(first=expected, last=entry.sequence - 1, problem="missing",
                                 detail="no ledger entry: neither held by an invoice nor recorded as a gap"))
        if entry.status == "gap" and not entry.reason:
            flagged.append(Break(first=entry.sequence, last=entry.sequence, problem="gap_without_reason",
                                 detail=f"{entry.number} is a gap with no recorded reason"))
        expected = entry.sequence + 1
    gaps = [Gap(sequence=entry.sequence, number=entry.number, invoice_id=entry.invoice_id,
                credit_note_id=entry.credit_note_id, reason=entry.reason,
                released_at=entry.released_at) for entry in entries if entry.status == "gap"]
    return SequenceContinuity(
        sequence_key=sequence_key, first=entries[0].sequence if entries else 0,
        last=entries[-1].sequence if entries else 0, held=len(entries) - len(gaps), gaps=gaps, flagged=flagged,
    )


def continuity_report(series_key: str, entries: Iterable[LedgerEntry]) -> ContinuityReport:
    """The continuity of every sequence of a series, from the series' ledger entries."""
    by_sequence = groupby(sorted(entries, key=lambda entry: (entry.sequence_key, entry.sequence)),
                          key=lambda entry: entry.sequence_key)
    return ContinuityReport(series_key=series_key,
                            sequences=[sequence_continuity(key, group) for key, group in by_sequence])
