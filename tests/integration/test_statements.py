"""`invoicing statements import` against the real stack: statement files become bank
transactions that payments reconciles, once, however often they are imported."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from contracts.messages.invoices import InvoiceFinalized
from tests.integration.test_payments import (  # noqa: F401 (ask and publish_invoice are fixtures)
    DUPLICATES,
    ask,
    bank_credit,
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
    # The statement's pending credit is announced (bank_transaction.pending): published, not answered.
    assert [(s["published"], s["reported"], s["pending"]) for s in summaries] == [(6, 3, 1), (1, 1, 0), (2, 1, 0)]
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


async def test_a_reference_the_next_word_extends_to_another_valid_one_pays_its_invoice(
    ask, publish_invoice, account_id  # noqa: F811
):
    # RF2926120001 px reads as RF2926120001PX too, which also validates: both are looked up.
    invoice = await publish_invoice(InvoiceFinalized, open_invoice(
        account_id, "INV-2026-07001", payment_reference="RF2926120001"
    ))

    matched = (await ask(bank_credit("RF2926120001 px"), "payment.matched")).model()

    assert (matched.invoice_id, matched.amount, matched.match) == (invoice.id, 12_000, "automatic")


async def test_a_transfer_waiting_for_such_a_reference_is_matched_once_the_invoice_is_known(
    ask, publish_invoice, event_log, account_id  # noqa: F811
):
    credit = bank_credit("rf29 2612 0001 px, thanks")
    assert (await ask(credit, "payment.unmatched")).model().reason == "unknown_reference"

    invoice = await publish_invoice(InvoiceFinalized, open_invoice(
        account_id, "INV-2026-07002", payment_reference="RF2926120001"
    ))

    matched = (await event_log.wait_for_type("payment.matched", invoice.id)).model()
    assert (matched.transaction_id, matched.amount) == (credit.transaction_id, 12_000)


BANK_FILES = sorted(SAMPLES.glob("mt940-*.sta"))


async def test_statements_of_every_bank_layout_are_imported_whole(
    services, event_log, publish_invoice, account_id  # noqa: F811
):
    invoice = await publish_invoice(InvoiceFinalized, open_invoice(
        account_id, "INV-2026-00034", payee_iban="NL90RABO0325117409"
    ))

    result = import_statements(*BANK_FILES, account_id=account_id)

    assert result.returncode == 0, result.stderr
    summaries = {Path(line["file"]).name: line for line in map(json.loads, result.stdout.splitlines()) if "published" in line}
    assert sorted(summaries) == [path.name for path in BANK_FILES]
    published = sum(s["published"] for s in summaries.values())
    assert published == 18 and sum(s["reported"] for s in summaries.values()) == 20
    found = await until_answered(event_log, account_id, published)
    # Both Rabobank credits name the invoice (by number, and by its RF reference in groups).
    paying = [r.data for r in event_log.of_type("payment.matched", invoice.id)]
    assert sorted(p["amount"] for p in paying) == [7_525, 98_000]
    assert sorted(found.values()).count("payment.matched") == 2


async def test_amounts_with_a_decimal_point_are_published_exactly(services, event_log, account_id, tmp_path):
    path = tmp_path / "dots.sta"
    path.write_text(
        ":20:S\n:25:NL91ABNA0417164300\n:28C:1/1\n:60F:C230101EUR100.00\n:61:230102C10.50NTRFNONREF\n"
        ":86:first\n:61:230102C20.75NTRFNONREF\n:86:second\n:62F:C230102EUR131.25\n-\n"
    )

    result = import_statements(path, account_id=account_id)

    assert result.returncode == 0, result.stderr
    await until_answered(event_log, account_id, 2)
    received = {r.data["remittance_information"]: r.data["amount"] for r in event_log.records
                if r.type == "bank_transaction.received" and r.headers.get("ce_accountid") == account_id}
    assert received == {"first": 1_050, "second": 2_075}


async def test_a_bad_date_or_a_statement_that_does_not_add_up_refuses_the_import(services, account_id, tmp_path):
    sample = (SAMPLES / "mt940-knab.sta").read_text()
    bad_date = tmp_path / "date.sta"
    bad_date.write_text(sample.replace(":61:2612081208C1500,", ":61:2613081208C1500,"))
    short = tmp_path / "short.sta"
    short.write_text(sample.replace(":62F:C261208EUR2345,", ":62F:C261208EUR2344,"))

    dated, added = import_statements(bad_date, account_id=account_id), import_statements(short, account_id=account_id)

    assert (dated.returncode, added.returncode) == (2, 2)
    assert f"refused {bad_date} line 6: '261308' is not a date (YYMMDD)" in dated.stderr
    assert "Traceback" not in dated.stderr
    assert f"refused {short} line 13: the balances do not add up: opening 880 + credits 1500 - debits 35 = 2345 EUR, " \
        "but the closing balance is 2344 EUR" in added.stderr
