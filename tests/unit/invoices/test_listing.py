"""The invoices list: filters, sorts and keyset pages over the stored listing, and the read API's
answers, on the in-memory store (the storage contract tests hold the real stores to the same)."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import HTTPException
from psycopg import OperationalError

from chassis.http.api import ReadApi
from chassis.http.keys import created, new_api_key
from chassis.http.pagination import decode_cursor, encode_cursor
from chassis.storage import Condition
from chassis.storage.memory import MemoryStore
from contracts.messages.common import Customer, LineItem
from contracts.messages.invoices import CreateInvoice
from services.invoices import api
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.listing import InvoiceFilter, position, sort_positions
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.invoice import Invoice

NOW = datetime(2025, 12, 1, 10, 0, tzinfo=UTC)  # before every due date: none is before its issue date
ACCOUNT = AccountSettings(id="acct", company_name="Acme", sender_email="billing@acme.example",
                          payee_iban="DE89370400440532013000")


def invoice(invoice_id: str, account: str = "acct", *, amount: int = 5000, number: str | None = None,
            due: date | None = None, customer: str = "Globex") -> Invoice:
    who = {"now": NOW, "actor": "user:ann", "message_id": f"m-{invoice_id}"}
    created_invoice = Invoice.create(CreateInvoice(
        invoice_id=invoice_id, currency="EUR", customer=Customer(name=customer), due_date=due,
        lines=[LineItem(description="Work", quantity=1, unit_amount=amount, tax_rate=0)]), account, **who)
    if number:
        created_invoice.request_finalization(ACCOUNT, "acct/INV-{seq}", **who)
        created_invoice.finalize(number, **who)
    if due and due < date(2026, 11, 15):  # its clock ran on the 15th
        created_invoice.run_clock([], now=datetime(2026, 11, 15, tzinfo=UTC), actor="system:clock",
                                  message_id=f"clock-{invoice_id}")
    return created_invoice


@pytest.fixture
async def invoices():
    repository = Invoices(MemoryStore())
    for stored in [invoice("i1", amount=300, number="INV-9", due=date(2026, 11, 1)),
                   invoice("i2", amount=20, number="INV-10", due=date(2036, 12, 1), customer="Initech"),
                   invoice("i3", amount=1000),
                   invoice("other", "acct_other", amount=20, number="INV-1", due=date(2026, 1, 1))]:
        await repository.insert(stored)
    return repository


async def ids(invoices, sort="due_date", descending=False, **wanted) -> list[str]:
    return [d["listing"]["id"] for d in await invoices.page("acct", InvoiceFilter(**wanted), sort, descending, 10)]


def test_sort_positions_sort_like_the_values_they_stand_for():
    def position(**fields):
        return sort_positions("x", **{"due_date": None, "issued_on": None, "total": 0, "number": None, **fields})

    assert position(number="INV-1")["number"] < position(number="INV-10")["number"] < position()["number"]
    assert position(total=-5)["amount"] < position(total=3)["amount"] < position(total=20)["amount"]
    assert position(due_date=date(2026, 2, 1))["due_date"] < position(due_date=date(2026, 10, 1))["due_date"]


async def test_an_account_sees_its_own_invoices_filtered_and_sorted(invoices):
    assert await ids(invoices) == ["i1", "i2", "i3"]
    assert await ids(invoices, descending=True) == ["i3", "i2", "i1"]
    assert await ids(invoices, "amount") == ["i2", "i1", "i3"]
    assert await ids(invoices, "number") == ["i2", "i1", "i3"]  # INV-10 < INV-9 as text; drafts last
    assert await ids(invoices, customer="Initech") == ["i2"]
    assert await ids(invoices, status=["draft"]) == ["i3"]
    assert await ids(invoices, amount_min=20, amount_max=300) == ["i1", "i2"]
    assert await ids(invoices, past_due=True) == ["i1"]
    assert await ids(invoices, number="INV-1") == []  # not INV-10, and not the other account's INV-1
    assert (await invoices.by_number("acct", "INV-10")).id == "i2"


async def test_pages_continue_after_the_last_position_shown(invoices):
    first = await invoices.page("acct", InvoiceFilter(), "amount", True, 2)
    rest = await invoices.page("acct", InvoiceFilter(), "amount", True, 2, after=position(first[-1], "amount"))
    assert [d["listing"]["id"] for d in first + rest] == ["i3", "i1", "i2"]


@pytest.fixture
async def client(invoices):
    service = SimpleNamespace(name="invoices", store=MemoryStore(), consumer=SimpleNamespace(handles=lambda m: lambda f: f))
    read_api = ReadApi(service, description="")
    api.routes(read_api, invoices)
    key = new_api_key()[1]
    await read_api.keys.add(created(key, "acct"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=read_api.app), base_url="http://test",
                                 headers={"Authorization": f"Bearer {key}"}) as http:
        yield http


async def test_the_api_pages_with_cursors_and_refuses_what_it_cannot_do(client):
    walked, cursor = [], None
    while True:
        page = (await client.get("/v1/invoices", params={"sort": "-amount", "limit": 1}
                                 | ({"cursor": cursor} if cursor else {}))).json()
        walked += [item["id"] for item in page["data"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert walked == ["i3", "i1", "i2"]
    assert [i["id"] for i in (await client.get("/v1/invoices", params={"past_due": "true"})).json()["data"]] == ["i1"]
    refused = await client.get("/v1/invoices", params={"past_due": "false"})
    assert refused.status_code == 422 and "past-due invoices only" in refused.text
    assert (await client.get("/v1/invoices", params={"limit": 0})).status_code == 422
    assert (await client.get("/v1/invoices/other")).status_code == 404
    assert (await client.get("/v1/invoices", headers={"Authorization": "Bearer key_1.x"})).status_code == 401


async def test_the_export_streams_every_selected_invoice_in_major_units(client):
    response = await client.get("/v1/invoices/export.csv", params={"sort": "amount"})
    lines = response.text.splitlines()
    assert lines[0] == ",".join(api.CSV_COLUMNS)
    assert [line.split(",")[0] for line in lines[1:]] == ["i2", "i1", "i3"]
    first = dict(zip(api.CSV_COLUMNS, lines[1].split(","), strict=True))
    assert first["total"] == "0.20" and first["amount_remaining"] == "0.20" and first["customer"] == "Initech"
    assert first["past_due"] == "false" and first["number"] == "INV-10" and first["last_sent_at"] == ""


async def test_totals_count_void_invoices_as_zero(client, invoices):
    voided = await invoices.get("acct", "i1")
    voided.void(now=NOW + timedelta(days=1), actor="user:ann", message_id="m-void", reason="twice")
    voided.version += 1
    await invoices.update(voided, voided.version - 1)
    totals = (await client.get("/v1/invoices/totals")).json()
    assert totals == [{"currency": "EUR", "count": 3, "total": 1020, "amount_paid": 0, "amount_remaining": 1020}]


def test_a_cursor_comes_back_as_the_position_it_was_made_of():
    assert decode_cursor(encode_cursor("2026-11-30 inv_ü")) == "2026-11-30 inv_ü"
    for forged in ("%%%", "", "////"):
        with pytest.raises(HTTPException):
            decode_cursor(forged)


async def test_invoices_stored_before_lists_are_listed_once_stored_again(invoices):
    older = invoice("old", amount=7)
    # no listing, as stored before lists
    await invoices.documents.insert({**older.model_dump(mode="json"), "id": "acct/old"})
    assert await invoices.store_again([Condition("sort_due_date", "eq", None)]) == 1
    assert position(await invoices.documents.get("acct/old"), "amount").endswith(" old")
    assert await ids(invoices, "amount") == ["old", "i2", "i1", "i3"]
    assert (await invoices.get("acct", "old")).version == older.version


async def test_a_store_that_is_away_answers_503_not_500(client, invoices, monkeypatch):
    async def away(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(invoices.documents, "find", away)
    answer = await client.get("/v1/invoices")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
