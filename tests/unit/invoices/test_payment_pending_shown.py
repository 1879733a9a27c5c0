"""Where a payment pending shows: the read API's invoice and list rows, the list's filter, the CSV
export and the hosted page in the customer's language."""

from datetime import UTC, datetime

import pytest

from contracts.messages.payments import PaymentPending
from services.invoices import api
from services.invoices.hosted_page import page
from tests.unit.documents.samples import invoice as snapshot
from tests.unit.invoices.test_listing import client, invoice, invoices  # noqa: F401 (fixtures)

TOKEN = "q1W9cKx3V0Hn7bD2mT5sYf8RzL4pA6eJuN0gXiOkC3w"


@pytest.fixture
async def pending(invoices):  # noqa: F811
    stored = invoice("i4", amount=700, number="INV-11")
    stored.announce_pending_payment(PaymentPending(invoice_id="i4", transaction_id="tx-1", amount=700, currency="EUR",
                                                   expires_at=datetime(2026, 12, 9, tzinfo=UTC)),
                                    now=datetime(2026, 12, 2, tzinfo=UTC), actor="service:payments", message_id="m")
    await invoices.insert(stored)
    return stored


async def test_the_api_shows_it_and_filters_by_it(client, pending):  # noqa: F811
    shown = (await client.get("/v1/invoices/i4")).json()["invoice"]
    assert (shown["payment_pending"], shown["payment_pending_amount"]) == (True, 700)
    assert (await client.get("/v1/invoices/i1")).json()["invoice"]["payment_pending"] is False

    rows = (await client.get("/v1/invoices", params={"payment_pending": "true"})).json()["data"]
    assert [(row["id"], row["payment_pending"]) for row in rows] == [("i4", True)]
    rows = (await client.get("/v1/invoices", params={"payment_pending": "false", "sort": "amount"})).json()["data"]
    assert [(row["id"], row["payment_pending"]) for row in rows] == [("i2", False), ("i1", False), ("i3", False)]


async def test_the_export_has_its_column(client, pending):  # noqa: F811
    lines = (await client.get("/v1/invoices/export.csv", params={"sort": "amount"})).text.splitlines()
    rows = [dict(zip(api.CSV_COLUMNS, line.split(","), strict=True)) for line in lines[1:]]
    assert {row["id"]: row["payment_pending"] for row in rows} == {"i2": "false", "i1": "false", "i4": "true",
                                                                   "i3": "false"}


@pytest.mark.parametrize(("language", "status", "notice"), [
    ("de", "Zahlung unterwegs", "Ihre Überweisung über 1.281,15\xa0€ ist unterwegs"),
    ("fr", "Paiement en cours", "Votre virement de 1\u202f281,15\xa0€ est en cours"),
    ("en", "Payment pending", "Your transfer of €1,281.15 is on its way"),
])
def test_the_page_says_the_transfer_is_on_its_way_instead_of_asking_to_pay(language, status, notice):
    html = page(snapshot(payment_pending=True, payment_pending_amount=128115,
                         customer={"name": "Globex", "language": language}), TOKEN)

    assert f'<span class="status open pending" id=status>{status}</span>' in html
    assert notice in html
    assert "id=iban" not in html


def test_a_transfer_for_part_of_what_is_owed_leaves_the_payment_details_for_the_rest():
    html = page(snapshot(payment_pending=True, payment_pending_amount=100), TOKEN)
    assert "id=payment-pending" in html and "id=iban" in html
    assert "id=payment-pending" not in page(snapshot(), TOKEN)
