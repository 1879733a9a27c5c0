"""The continuity reports an account reads: all of its series, and none of another account's,
even one whose id begins with its own."""

from datetime import UTC, date, datetime

from chassis.storage.memory import MemoryStore
from services.numbering.adapters.ledger import Ledger
from services.numbering.api import account_continuity, account_entries
from services.numbering.domain.ledger import LedgerEntry

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def entry(account: str, number_format: str, last_sequence: int) -> LedgerEntry:
    return LedgerEntry.allocate(invoice_id=f"inv_{account}_{last_sequence}_{len(number_format)}", account_id=account,
                                series_key=f"{account}/{number_format}", number_format=number_format,
                                issued_on=date(2026, 3, 1), last_sequence=last_sequence, now=NOW)


async def test_an_account_reads_the_continuity_of_each_of_its_series_and_no_other():
    ledger = Ledger(MemoryStore())
    for stored in [entry("acct", "INV-{seq:04}", 0), entry("acct", "INV-{seq:04}", 1), entry("acct", "CN-{seq}", 0),
                   entry("acct_b", "INV-{seq:04}", 0), entry("acct0", "INV-{seq:04}", 0)]:
        await ledger.insert(stored)
    reports = await account_continuity(ledger, "acct")
    assert [(report.series_key, report.sequences[0].last) for report in reports] == [
        ("acct/CN-{seq}", 1), ("acct/INV-{seq:04}", 2)]
    assert await account_continuity(ledger, "acct_c") == []


async def test_an_account_reads_every_number_of_its_ledger_held_or_a_gap_and_no_other_accounts():
    ledger = Ledger(MemoryStore())
    deleted = entry("acct", "INV-{seq:04}", 1)
    deleted.release("invoice deleted", NOW)
    for stored in [entry("acct", "INV-{seq:04}", 0), deleted, entry("acct0", "INV-{seq:04}", 0)]:
        await ledger.insert(stored)
    assert [(found.number, found.invoice_id, found.status) for found in await account_entries(ledger, "acct")] == [
        ("INV-0001", "inv_acct_0_12", "held"), ("INV-0002", "inv_acct_1_12", "gap")]
