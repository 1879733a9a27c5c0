"""The continuity of a numbering series on the real stack: recorded gaps are continuous, a lost
ledger entry is flagged in the report and in the breaks gauge."""

import asyncio
import re
import uuid

import httpx

from chassis.storage import open_store
from contracts.messages.invoices import DeleteInvoice, FinalizeInvoice
from contracts.messages.numbering import series_key
from services.numbering.adapters.ledger import Ledger
from services.numbering.continuity import series_continuity
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import database_url, internal_url

FORMAT = "INV-{yyyy}-{seq:05}"


async def numbering_metrics() -> str:
    return httpx.get(internal_url("numbering", "/metrics")).text


async def breaks_gauge() -> float | None:
    """The breaks of all series: the gauge names no series, so no account or number format."""
    found = re.search(r"^invoicing_numbering_continuity_breaks (\S+)$", await numbering_metrics(), re.MULTILINE)
    return float(found.group(1)) if found else None


async def gauge_settles(expected: float, timeout: float = 60) -> float | None:
    """The gauge is refreshed by a loop (NUMBERING_CONTINUITY_INTERVAL_SECONDS): poll for it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await breaks_gauge()) != expected and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
    return value


async def test_a_recorded_gap_keeps_a_series_continuous_and_a_lost_entry_is_flagged(
        services, producer, event_log, account_id):
    await producer.send(configure_account(account_id, delete_finalized_invoices=True), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_ids = [f"inv_{uuid.uuid4().hex[:16]}" for _ in range(4)]
    for invoice_id in invoice_ids:
        await producer.send(create_invoice(invoice_id), account_id=account_id)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
        await event_log.wait_for_type("invoice.finalized", invoice_id)
    await producer.send(DeleteInvoice(invoice_id=invoice_ids[1], reason="issued to the wrong customer"),
                        account_id=account_id)
    await event_log.wait_for_type("number.released", invoice_ids[1])
    # Other tests of the run may have broken series of their own: this one adds one break.
    await asyncio.sleep(1)
    before = await breaks_gauge()
    assert before is not None

    store = open_store(database_url("numbering"), "numbering")
    await store.open()
    try:
        ledger = Ledger(store)
        [sequence] = (await series_continuity(ledger, account_id, FORMAT)).sequences
        assert (sequence.first, sequence.last, sequence.held, sequence.flagged) == (1, 4, 3, [])
        assert [gap.reason for gap in sequence.gaps] == ["issued to the wrong customer"]

        # An entry lost behind the service's back (a restore from an old backup, a hand edit).
        lost = await ledger.held_by(account_id, invoice_ids[2])
        await ledger.documents.delete(lost.id)
        report = await series_continuity(ledger, account_id, FORMAT)
    finally:
        await store.close()
    assert [(flag.first, flag.last, flag.problem) for flag in report.sequences[0].flagged] == [(3, 3, "missing")]
    assert await gauge_settles(before + 1) == before + 1
    metrics = await numbering_metrics()
    assert account_id not in metrics and FORMAT not in metrics and series_key(account_id, FORMAT) not in metrics
