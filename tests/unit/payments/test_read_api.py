"""payments' read API on the in-memory store, as the public port serves it (behind the input guard):
no text as a cursor answers 500, and a payment is shown without the store's bookkeeping."""

import random
from datetime import date
from types import SimpleNamespace

import httpx
import pytest

from chassis.http.api import ReadApi
from chassis.http.input import InputGuard
from chassis.http.key_format import created, new_api_key
from chassis.http.pagination import Cursors
from chassis.storage.memory import MemoryStore
from contracts.messages.payments import RecordPayment
from services.payments import api
from services.payments.adapters.invoices import InvoiceReadModel
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook
from services.payments.domain.model import InvoiceView
from services.payments.domain.payments import Payment


@pytest.fixture
async def client():
    store = MemoryStore()
    service = SimpleNamespace(name="payments", store=store, consumer=SimpleNamespace(handles=lambda m: lambda f: f),
                              on_startup=lambda hook: hook)
    read_api = ReadApi(service, description="")
    read_api.cursors = Cursors("the test deployment's secret")
    payments, invoices = PaymentBook(store), InvoiceReadModel(store)
    api.routes(read_api, TransactionBook(store), payments, invoices)
    key = new_api_key()[1]
    await read_api.keys.add(created(key, "acct"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=InputGuard(read_api.app)), base_url="http://test",
                                 headers={"Authorization": f"Bearer {key}"}) as http:
        http.payments, http.invoices = payments, invoices
        yield http


async def test_no_cursor_text_answers_anything_but_400_or_422(client):
    """The property a run over the OpenAPI document found broken (`AAAA` was a 500): random text
    from every corner of Unicode, base64 look-alikes and the old unsigned cursors included."""
    rng = random.Random(15)
    alphabet = [chr(c) for c in (*range(0, 0x80), 0xA0, 0xE9, 0x2028, 0xFEFF, 0x1F600, 0xD7FF, 0xE000, 0xFFFF)]
    texts = ["AAAA", "é", "AAAA.AAAA", "MjAyNi0xMS0wNSB0eC0x", ".", "..", "=", "a" * 1000]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(400)]
    for text in texts:
        answer = await client.get("/v1/payments/unmatched", params={"cursor": text})
        assert answer.status_code in (400, 422), (text, answer.status_code, answer.text)
    raw = await client.get("/v1/payments/unmatched?cursor=%ED%A0%80")  # a surrogate, encoded anyway
    assert raw.status_code == 422


async def test_a_payment_is_shown_without_the_stores_bookkeeping(client):
    payment = Payment.recorded("acct", RecordPayment(invoice_id="inv_1", payment_id="cash-1", amount=100,
                                                     currency="EUR", paid_on=date(2026, 11, 3), method="cash"))
    payment.remember("m-1")
    await client.payments.insert(payment)
    await client.invoices.remember(InvoiceView(id="inv_1", account_id="acct", number="INV-1", status="open",
                                               currency="EUR", amount_remaining=0, version=3))
    answer = await client.get("/v1/invoices/inv_1/payments")
    assert answer.status_code == 200, answer.text
    [shown] = answer.json()["data"]
    assert shown["payment_id"] == "cash-1" and shown["amount"] == 100
    assert not {"id", "version", "handled", "outbox"} & set(shown) and shown["account_id"] == "acct"


async def test_paid_sums_per_invoice_the_payments_that_count_of_the_account_only(client):
    def payment(account: str, invoice_id: str, payment_id: str, amount: int) -> Payment:
        return Payment.recorded(account, RecordPayment(invoice_id=invoice_id, payment_id=payment_id, amount=amount,
                                                       currency="EUR", paid_on=date(2026, 11, 3), method="cash"))
    removed = payment("acct", "inv_1", "cash-3", 999)
    removed.remove("typed twice")
    for stored in (payment("acct", "inv_1", "cash-1", 100), payment("acct", "inv_1", "cash-2", 50), removed,
                   payment("acct", "inv_2", "cash-4", 7), payment("acct_b", "inv_1", "cash-5", 1000)):
        await client.payments.insert(stored)
    answer = await client.get("/v1/payments/paid")
    assert answer.status_code == 200, answer.text
    assert answer.json() == [{"invoice_id": "inv_1", "currency": "EUR", "amount_paid": 150, "payments": 2},
                             {"invoice_id": "inv_2", "currency": "EUR", "amount_paid": 7, "payments": 1}]
