"""The invoices list: filters, sorts and keyset pages over the stored listing, and the read API's
answers, on the in-memory store (the storage contract tests hold the real stores to the same)."""

import base64
import contextlib
import csv
import io
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import httpx
import pytest
from fastapi import HTTPException
from psycopg import OperationalError

from chassis.http.api import ReadApi
from chassis.http.input import InputGuard
from chassis.http.key_format import created, new_api_key
from chassis.http.pagination import Cursors
from chassis.storage.memory import MemoryStore
from contracts.messages.common import Address, Customer, LineItem
from contracts.messages.invoices import CreateInvoice
from documents.rendering import DocumentRenderer
from services.invoices import api
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.listing import InvoiceFilter, position, sort_positions
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.invoice import Invoice
from tests.unit.invoices.test_lifecycle import LINKS

NOW = datetime(2025, 12, 1, 10, 0, tzinfo=UTC)  # before every due date: none is before its issue date
ACCOUNT = AccountSettings(id="acct", company_name="Acme", sender_email="billing@acme.example",
                          payee_iban="DE89370400440532013000", company_address=Address(country="DE"),
                          company_tax_id="DE123456788")


def invoice(invoice_id: str, account: str = "acct", *, amount: int = 5000, number: str | None = None,
            due: date | None = None, customer: str = "Globex") -> Invoice:
    who = {"now": NOW, "actor": "user:ann", "message_id": f"m-{invoice_id}"}
    created_invoice = Invoice.create(CreateInvoice(
        invoice_id=invoice_id, currency="EUR", customer=Customer(name=customer, address=Address(country="DE")), due_date=due,
        lines=[LineItem(description="Work", quantity=1, unit_amount=amount, tax_rate=0)]), account, **who)
    if number:
        created_invoice.request_finalization(ACCOUNT, "acct/INV-{seq}", **who)
        created_invoice.finalize(number, links=LINKS, **who)
    if due and due < date(2026, 11, 15):  # its clock ran on the 15th
        created_invoice.run_clock([], links=LINKS, now=datetime(2026, 11, 15, tzinfo=UTC), actor="system:clock",
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
    async with api_client(invoices, DocumentRenderer(0)) as http:
        yield http


@contextlib.asynccontextmanager
async def api_client(invoices: Invoices, renderer: DocumentRenderer):
    """An HTTP client of the read API on `invoices`, with the key of account "acct" (and
    `other_key`, one of "acct_other")."""
    service = SimpleNamespace(name="invoices", store=MemoryStore(), consumer=SimpleNamespace(handles=lambda m: lambda f: f),
                              on_startup=lambda hook: hook)
    read_api = ReadApi(service, description="")
    read_api.cursors = Cursors("the test deployment's secret")
    api.routes(read_api, invoices, LINKS, renderer)
    keys = {account: new_api_key()[1] for account in ("acct", "acct_other")}
    for account, key in keys.items():
        await read_api.keys.add(created(key, account))
    # As the public port serves it: behind the input guard.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=InputGuard(read_api.app)), base_url="http://test",
                                 headers={"Authorization": f"Bearer {keys['acct']}"}) as http:
        http.other_key = keys["acct_other"]
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


def test_a_cursor_comes_back_as_the_position_it_was_made_of_only_for_its_account_and_list():
    cursors = Cursors("secret")
    made = cursors.cursor("acct", "invoices sort=amount", "2026-11-30 inv_ü")
    assert cursors.position(made, "acct", "invoices sort=amount") == "2026-11-30 inv_ü"
    position, signature = made.split(".")
    unsigned = base64.urlsafe_b64encode(b"2026-12-31 inv_z").decode().rstrip("=")
    for forged, account, scope in [
        (made, "acct_other", "invoices sort=amount"),  # another account
        (made, "acct", "invoices sort=number"),  # another list
        (Cursors("another deployment").cursor("acct", "invoices sort=amount", "x"), "acct", "invoices sort=amount"),
        (f"{unsigned}.{signature}", "acct", "invoices sort=amount"),  # another position
        (position, "acct", "invoices sort=amount"),  # the unsigned base64 cursors of before
        *((text, "acct", "s") for text in ("%%%", "", "////", "AAAA", "é", "a.b.c", "AAAA.AAAA", "\x00")),
    ]:
        with pytest.raises(HTTPException) as refused:
            cursors.position(forged, account, scope)
        assert refused.value.status_code == 400 and "not one this API gave out" in refused.value.detail


async def test_a_cursor_continues_only_the_list_and_account_it_was_made_for(client):
    first = (await client.get("/v1/invoices", params={"sort": "-amount", "limit": 1})).json()
    cursor = first["next_cursor"]
    assert (await client.get("/v1/invoices", params={"sort": "-amount", "limit": 2, "cursor": cursor})).status_code == 200
    for params in ({"sort": "amount"}, {"sort": "-amount", "customer": "Globex"}, {"sort": "-amount", "status": "open"}):
        refused = await client.get("/v1/invoices", params={**params, "cursor": cursor})
        assert refused.status_code == 400, params
        assert refused.json() == {"detail": "The cursor is not one this API gave out for this account, filter and "
                                            "sort: ask for the first page again."}
    other = await client.get("/v1/invoices", params={"sort": "-amount", "cursor": cursor},
                             headers={"Authorization": f"Bearer {client.other_key}"})
    assert other.status_code == 400
    for garbage in ("AAAA", "é", "MjAyNi0xMS0zMCBpbnZfMQ"):
        assert (await client.get("/v1/invoices", params={"cursor": garbage})).status_code == 400


@pytest.mark.parametrize("path", ["/v1/invoices?customer=%00", "/v1/invoices?number=a%0Ab", "/v1/invoices?currency=%ED%A0%80",
                                  "/v1/invoices/x%00y/history", "/v1/invoices/x%00y", "/v1/invoices/by-number/%00",
                                  "/v1/invoices/export.csv?customer=%00", "/v1/invoices/totals?customer=%1B",
                                  "/v1/invoices?cursor=%00", "/v1/invoices?%00=1", "/v1/invoices?customer=%FF",
                                  f"/v1/invoices?customer={'x' * 1001}"])
async def test_invalid_text_in_a_path_or_parameter_is_refused_before_any_query(client, invoices, monkeypatch, path):
    async def no_query(*args, **kwargs):
        raise AssertionError("the store was asked")

    for method in ("find", "stream", "get"):
        monkeypatch.setattr(invoices.documents, method, no_query)
    refused = await client.get(path)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["detail"]
    assert problem["type"] == "invalid_characters" and problem["msg"].startswith(("The path", "The query parameter", "A query"))


async def test_text_that_only_looks_odd_is_not_refused(client):
    for customer in ("Zoë & Søn", "株式会社", "O'Brien", "a b", "x" * 1000):
        assert (await client.get("/v1/invoices", params={"customer": customer})).status_code == 200, customer


async def test_an_export_the_store_cannot_answer_is_refused_before_the_first_byte(client, invoices, monkeypatch):
    async def away(*args, **kwargs):
        raise OperationalError("connection refused")
        yield

    monkeypatch.setattr(invoices.documents, "stream", away)
    answer = await client.get("/v1/invoices/export.csv")
    assert answer.status_code == 503 and answer.json() == {"detail": "The store is unavailable; try again shortly."}


async def test_an_export_of_nothing_is_its_header(client):
    answer = await client.get("/v1/invoices/export.csv", params={"customer": "Nobody"})
    assert answer.status_code == 200 and answer.text.splitlines() == [",".join(api.CSV_COLUMNS)]


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil.example\",\"x\")", "-2+3+cmd|' /C calc'!A0",
                                  "@SUM(1+1)*cmd|' /C calc'!A0", "+1"])
async def test_an_export_neutralises_text_cells_a_spreadsheet_would_run(client, invoices, name):
    await invoices.insert(invoice("evil", amount=250, customer=name))
    answer = await client.get("/v1/invoices/export.csv", params={"customer": name})
    [row] = list(csv.DictReader(io.StringIO(answer.text)))
    assert row["customer"] == f"'{name}" and row["id"] == "evil"
    assert row["total"] == "2.50"


def test_every_text_cell_that_starts_like_a_formula_is_neutralised_and_amounts_stay_numbers():
    listing = {"id": "=1", "number": "\rINV", "status": "open", "customer": "\tName", "customer_email": "@x.example",
               "currency": "EUR", "total": -250, "amount_paid": 0, "amount_remaining": -250, "issued_on": None,
               "due_date": None, "past_due": False, "last_sent_at": None}
    row = dict(zip(api.CSV_COLUMNS, api.csv_row(listing), strict=True))
    assert [row[c] for c in ("id", "number", "status", "customer", "customer_email", "currency")] == [
        "'=1", "'\rINV", "open", "'\tName", "'@x.example", "EUR"]
    assert (row["total"], row["amount_remaining"]) == ("-2.50", "-2.50")
    assert api.text_cell("Globex - West") == "Globex - West" and api.text_cell(None) is None
