"""The continuity report of a series, and the breaks gauge's count, on the in-memory store."""

from datetime import UTC, date, datetime

from chassis.storage.memory import MemoryStore
from services.numbering.adapters.ledger import Ledger
from services.numbering.continuity import count_breaks, series_continuity
from services.numbering.domain.continuity import continuity_report
from services.numbering.domain.ledger import LedgerEntry

FORMAT = "INV-{yyyy}-{seq:05}"
SERIES = f"acct/{FORMAT}"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def entries(count: int, *, year: int = 2026, account: str = "acct") -> list[LedgerEntry]:
    return [LedgerEntry.allocate(invoice_id=f"inv_{account}_{year}_{sequence}", account_id=account,
                                 series_key=f"{account}/{FORMAT}", number_format=FORMAT, issued_on=date(year, 3, 1),
                                 last_sequence=sequence, now=NOW)
            for sequence in range(count)]


def test_a_series_whose_numbers_are_all_held_or_explained_has_no_break():
    ledger = entries(5)
    ledger[2].release("invoice deleted", NOW)
    [sequence] = continuity_report(SERIES, reversed(ledger)).sequences
    assert (sequence.sequence_key, sequence.first, sequence.last, sequence.held) == (f"{SERIES}@2026", 1, 5, 4)
    assert [(gap.number, gap.reason) for gap in sequence.gaps] == [("INV-2026-00003", "invoice deleted")]
    assert sequence.flagged == [] and sequence.breaks == 0


def test_numbers_without_an_entry_and_gaps_without_a_reason_are_flagged():
    ledger = entries(8)
    ledger[5].status = "gap"  # as if written by hand, without a reason
    report = continuity_report(SERIES, [entry for entry in ledger if entry.sequence not in (1, 3, 4)])
    flagged = report.sequences[0].flagged
    assert [(flag.first, flag.last, flag.problem) for flag in flagged] == [
        (1, 1, "missing"), (3, 4, "missing"), (6, 6, "gap_without_reason")]
    assert report.breaks == 4
    assert report.model_dump(mode="json")["breaks"] == 4


def test_each_year_of_a_per_year_series_is_its_own_sequence():
    report = continuity_report(SERIES, entries(2, year=2026) + entries(3, year=2025))
    assert [(s.sequence_key, s.last) for s in report.sequences] == [(f"{SERIES}@2025", 3), (f"{SERIES}@2026", 2)]


async def test_an_account_reads_only_its_own_series():
    ledger = Ledger(MemoryStore())
    for entry in entries(3) + entries(2, account="other"):
        await ledger.insert(entry)
    report = await series_continuity(ledger, "acct", FORMAT)
    assert report.series_key == SERIES and report.sequences[0].held == 3
    assert (await series_continuity(ledger, "nobody", FORMAT)).sequences == []


async def test_the_gauge_counts_breaks_per_series_and_zero_for_continuous_ones():
    ledger = Ledger(MemoryStore())
    broken = entries(6, year=2025) + entries(4)
    for entry in broken + entries(3, account="other"):
        if entry.number not in ("INV-2025-00002", "INV-2026-00003"):
            await ledger.insert(entry)
    assert await count_breaks(ledger) == {SERIES: 2, f"other/{FORMAT}": 0}
