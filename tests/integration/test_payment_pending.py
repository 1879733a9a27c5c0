"""A payment pending on the real stack: a camt.054 notification with a PDNG entry, imported with
`invoicing statements import`, marks the invoice it names (the read API, its filter and the hosted
page show it); the booked camt.053 statement pays the invoice and clears it."""

import asyncio
from pathlib import Path

import httpx

from contracts.messages.common import LineItem
from contracts.messages.invoices import FinalizeInvoice
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import env
from tests.integration.test_read_api import accepted_everywhere, new_key, read
from tests.integration.test_statements import import_statements

SAMPLES = Path(__file__).parents[1] / "samples" / "statements"
SAMPLE_NUMBER = "INV-2026-00001"  # what both sample files' 120.00 EUR credit names


def naming(sample: str, number: str, folder: Path) -> Path:
    """The sample file with its credit naming the invoice's real number."""
    path = folder / sample
    path.write_text((SAMPLES / sample).read_text().replace(SAMPLE_NUMBER, number))
    return path


async def until(check, what: str):
    for _ in range(300):
        if found := await check():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def test_a_pending_credit_shows_on_the_invoice_until_the_booked_statement_pays_it(
    services, producer, event_log, account_id, tmp_path
):
    async def ask(message, answer_type: str):
        sent = await producer.send(message, account_id=account_id)
        return await event_log.wait_for(lambda r: r.type == answer_type
                                        and r.headers.get("ce_correlationid") == str(sent.correlationid))

    await ask(configure_account(account_id), "account.configured")
    invoice_id = "inv_pending_1"
    await ask(create_invoice(invoice_id, lines=[LineItem(description="Consulting", quantity="1", unit_amount=12_000,
                                                         tax_rate="0")]), "invoice.created")
    finalized = (await ask(FinalizeInvoice(invoice_id=invoice_id), "invoice.finalized")).data
    number = finalized["invoice"]["number"]
    key = (await new_key(account_id))["key"]
    await accepted_everywhere(key)

    async def shown() -> dict:
        return (await read("invoices", f"/v1/invoices/{invoice_id}", key)).json()["invoice"]

    async def pending_ids() -> list[str]:
        response = await read("invoices", "/v1/invoices", key, payment_pending="true")
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["data"]]

    notice = import_statements(naming("camt054.001.08-pending.xml", number, tmp_path), account_id=account_id)

    assert notice.returncode == 0, notice.stderr
    assert '"pending": 1' in notice.stdout
    announced = await event_log.wait_for_type("payment.pending", invoice_id)
    assert (announced.data["amount"], announced.data["transaction_id"]) == (
        12_000, "DE89370400440532013000:2026111900017")
    invoice = await until(lambda: _if(shown(), lambda i: i["payment_pending"]), "the invoice shows it pending")
    assert (invoice["status"], invoice["payment_pending_amount"], invoice["amount_remaining"]) == ("open", 12_000, 12_000)
    assert await pending_ids() == [invoice_id]
    page_url = f"http://127.0.0.1:{env('INVOICES_HTTP_PORT')}/i/{invoice_id}/{finalized['hosted_token']}"
    async with httpx.AsyncClient(timeout=10) as client:
        page = (await client.get(page_url)).text
    assert "Payment pending" in page and "id=payment-pending" in page and "id=iban" not in page

    statement = import_statements(naming("camt053.001.08.xml", number, tmp_path), account_id=account_id)

    assert statement.returncode == 0, statement.stderr
    await event_log.wait_for_type("invoice.paid", invoice_id)
    invoice = await until(lambda: _if(shown(), lambda i: i["status"] == "paid"), "the invoice is paid")
    assert (invoice["payment_pending"], invoice["payment_pending_amount"], invoice["amount_remaining"]) == (False, 0, 0)
    assert await pending_ids() == []
    history = (await read("invoices", f"/v1/invoices/{invoice_id}/history", key)).json()["data"]
    assert [(e["action"], e["detail"].get("reason")) for e in history if e["action"].startswith("payment_")] == [
        ("payment_pending", None), ("payment_applied", None), ("payment_pending_cleared", "booked")]


async def _if(value, holds):
    found = await value
    return found if holds(found) else None
