"""The credit notes of the invoices read API, on the in-memory store: listed with filters and
signed cursors, shown one by one, never another account's, and in the CSV export."""

from types import SimpleNamespace

import httpx
import pytest

from chassis.http.api import ReadApi
from chassis.http.input import InputGuard
from chassis.http.key_format import created, new_api_key
from chassis.http.pagination import Cursors
from chassis.storage.memory import MemoryStore
from services.invoices import api, credit_notes_api
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.listing import listed
from tests.unit.invoices.test_credit_notes import create, credit, issued_invoice


def credited(invoice_id: str, customer_id: str, *credit_note_ids: str, account: str = "acct"):
    invoice = issued_invoice(customer_id=customer_id)
    invoice.id, invoice.account_id = invoice_id, account
    for credit_note_id in credit_note_ids:
        credit(invoice, credit_note_id, amount=100)
    return invoice


@pytest.fixture
async def client():
    invoices = Invoices(MemoryStore())
    pending = credited("inv_c", "cus_2")
    create(pending, "cn_pending", amount=100)
    for invoice in (credited("inv_a", "cus_1", "cn_1", "cn_2"), credited("inv_b", "cus_2", "cn_3"), pending,
                    credited("inv_x", "cus_1", "cn_x", account="acct_other"), credited("inv_d", "cus_1")):
        await invoices.insert(invoice)
    service = SimpleNamespace(name="invoices", store=MemoryStore(), on_startup=lambda hook: hook,
                              consumer=SimpleNamespace(handles=lambda m: lambda f: f))
    read_api = ReadApi(service, description="")
    read_api.cursors = Cursors("the test deployment's secret")
    credit_notes_api.routes(read_api, invoices)
    key = new_api_key()[1]
    await read_api.keys.add(created(key, "acct"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=InputGuard(read_api.app)), base_url="http://test",
                                 headers={"Authorization": f"Bearer {key}"}) as http:
        yield http


async def ids(client, **params) -> list[str]:
    answer = await client.get("/v1/credit-notes", params=params)
    assert answer.status_code == 200, answer.text
    return [note["id"] for note in answer.json()["data"]]


async def test_the_account_lists_its_issued_credit_notes_filtered(client):
    assert await ids(client) == ["cn_1", "cn_2", "cn_3"]
    assert await ids(client, invoice_id="inv_b") == ["cn_3"]
    assert await ids(client, customer_id="cus_1") == ["cn_1", "cn_2"]
    assert await ids(client, issued_from="2026-11-03") == []
    assert await ids(client, issued_from="2026-11-02", issued_to="2026-11-02") == ["cn_1", "cn_2", "cn_3"]


async def test_pages_follow_each_other_with_signed_cursors(client):
    first = (await client.get("/v1/credit-notes", params={"limit": 2})).json()
    assert [note["id"] for note in first["data"]] == ["cn_1", "cn_2"] and first["has_more"]
    second = (await client.get("/v1/credit-notes", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert ([note["id"] for note in second["data"]], second["has_more"]) == (["cn_3"], False)
    other_filter = await client.get("/v1/credit-notes", params={"cursor": first["next_cursor"], "invoice_id": "inv_a"})
    assert other_filter.status_code == 400


async def test_one_credit_note_is_shown_issued_or_pending_and_another_accounts_is_not_found(client):
    shown = (await client.get("/v1/credit-notes/cn_3")).json()
    assert (shown["invoice_id"], shown["status"], shown["total"]) == ("inv_b", "issued", 100)
    assert (await client.get("/v1/credit-notes/cn_pending")).json()["status"] == "pending"
    assert (await client.get("/v1/credit-notes/cn_x")).status_code == 404


def test_the_export_writes_each_credit_note_after_its_invoice_as_a_document_of_its_own():
    invoice = credited("inv_a", "cus_1", "cn_1")
    listing = listed(invoice)["listing"]
    invoice_row, note_row = (dict(zip(api.CSV_COLUMNS, row, strict=True)) for row in api.csv_rows(listing))
    assert (invoice_row["document_type"], invoice_row["corrects"], invoice_row["total"]) == ("invoice", None, "129.69")
    assert (note_row["document_type"], note_row["id"], note_row["corrects"]) == ("credit_note", "cn_1", "INV-2026-00001")
    assert (note_row["number"], note_row["total"], note_row["amount_remaining"], note_row["issued_on"]) == (
        invoice.credit_notes[0].number, "1.00", None, "2026-11-02")


async def test_a_credit_note_id_is_the_accounts_whichever_invoice_holds_it():
    invoices = Invoices(MemoryStore())
    await invoices.insert(credited("inv_a", "cus_1", "cn_1"))
    await invoices.insert(credited("inv_x", "cus_1", "cn_2", account="acct_other"))
    assert await invoices.credit_note_elsewhere("acct", "cn_1", "inv_b")
    assert not await invoices.credit_note_elsewhere("acct", "cn_1", "inv_a")  # its own: the invoice checks it
    assert not await invoices.credit_note_elsewhere("acct", "cn_2", "inv_b")  # another account's id
