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
from tests.integration.harness import database_url, env

FORMAT = "INV-{yyyy}-{seq:05}"


async def breaks_gauge(series: str) -> float | None:
    metrics = httpx.get(f"http://127.0.0.1:{env('NUMBERING_HTTP_PORT')}/metrics").text
    pattern = rf'^invoicing_numbering_continuity_breaks{{series="{re.escape(series)}"}} (\S+)$'
    found = re.search(pattern, metrics, re.MULTILINE)
    return float(found.group(1)) if found else None


async def gauge_settles(series: str, expected: float, timeout: float = 60) -> float | None:
    """The gauge is refreshed by a loop (NUMBERING_CONTINUITY_INTERVAL_SECONDS): poll for it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (value := await breaks_gauge(series)) != expected and asyncio.get_running_loop().time() < deadline:
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
    series = series_key(account_id, FORMAT)
    assert await gauge_settles(series, 0) == 0

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
    assert await gauge_settles(series, 1) == 1
