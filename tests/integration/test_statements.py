"""`invoicing statements import` against the real stack: statement files become bank
transactions that payments reconciles, once, however often they are imported."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from contracts.messages.invoices import InvoiceFinalized
from tests.integration.test_payments import (  # noqa: F401 (publish_invoice is a fixture)
    DUPLICATES,
    counted,
    open_invoice,
    publish_invoice,
)

SAMPLES = Path(__file__).parents[1] / "samples" / "statements"
ANSWERS = ("payment.matched", "payment.unmatched")


def import_statements(*files: Path, account_id: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", "statements", "import", *map(str, files), "--account", account_id],
        capture_output=True, text=True, timeout=60, env=os.environ,
    )


def answered(event_log, account_id: str) -> dict[str, str]:
    """Each transaction of the account that payments answered for, and how."""
    return {
        r.data["transaction_id"]: r.type
        for r in event_log.records
        if r.type in ANSWERS and r.headers.get("ce_accountid") == account_id
    }


async def until_answered(event_log, account_id: str, count: int) -> dict[str, str]:
    for _ in range(300):
        if len(found := answered(event_log, account_id)) >= count:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"payments answered {answered(event_log, account_id)}, expected {count} transactions")


async def test_imported_credits_are_reconciled_once_however_often_imported(
    services, event_log, publish_invoice, account_id  # noqa: F811
):
    invoice = await publish_invoice(InvoiceFinalized, open_invoice(account_id, "INV-2026-00001"))
    files = (SAMPLES / "camt053.001.08.xml", SAMPLES / "mt940-swift-codes.sta", SAMPLES / "mt940-unstructured.sta")

    first = import_statements(*files, account_id=account_id)

    assert first.returncode == 0, first.stderr
    lines = [json.loads(line) for line in first.stdout.splitlines()]
    summaries = [line for line in lines if "published" in line]
    assert [(s["published"], s["reported"]) for s in summaries] == [(5, 4), (1, 1), (2, 1)]
    found = await until_answered(event_log, account_id, 8)
    assert found.pop("DE89370400440532013000:2026112000001") == "payment.matched"
    assert set(found.values()) == {"payment.unmatched"}
    [matched] = event_log.of_type("payment.matched", invoice.id)
    assert (matched.data["amount"], matched.data["match"]) == (12_000, "automatic")

    duplicates_before = counted(DUPLICATES)
    again = import_statements(*files, account_id=account_id)

    assert again.returncode == 0, again.stderr
    for _ in range(300):
        if counted(DUPLICATES) >= duplicates_before + 8:
            break
        await asyncio.sleep(0.1)
    assert counted(DUPLICATES) == duplicates_before + 8
    assert len([r for r in event_log.records if r.type in ANSWERS and r.headers.get("ce_accountid") == account_id]) == 8


async def test_a_malformed_file_refuses_the_whole_import(services, event_log, account_id, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text((SAMPLES / "camt053.001.05.xml").read_text().replace("<CdtDbtInd>DBIT", "<CdtDbtInd>DEBIT"))

    result = import_statements(SAMPLES / "camt053.001.02.xml", broken, account_id=account_id)

    assert result.returncode == 2
    assert f"refused {broken} line" in result.stderr and "'DEBIT' is neither CRDT nor DBIT" in result.stderr
    # payments handles an account's messages in order: once a later import is answered, anything
    # the refused one had published would have been answered too.
    fence = import_statements(SAMPLES / "mt940-unstructured.sta", account_id=account_id)
    assert fence.returncode == 0, fence.stderr
    assert sorted(await until_answered(event_log, account_id, 2)) == [
        "GB82WEST12345698765432:GB22110001", "GB82WEST12345698765432:GB22110002"
    ]
