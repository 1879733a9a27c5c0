"""Pending credits on the in-memory harness: payments matches a bank_transaction.pending by the
rules of a transfer and announces payment.pending, stores nothing and queues nothing; the invoices
service beside it marks the invoice, the booking or the clock's expiry clears it
(tests/integration/test_payment_pending.py proves the real path)."""

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.envelope import Envelope
from contracts.messages.invoices import FinalizeInvoice, InvoiceFinalized, RunInvoiceClock, VoidInvoice
from contracts.messages.payments import BankTransactionPending, PaymentPending
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.listing import InvoiceFilter
from services.payments.adapters.transactions import TransactionBook
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, of_type, only
from tests.unit.payments.test_handlers import OTHER_IBAN, bank_credit, open_invoice, publish


def pending_credit(remittance: str, **fields) -> BankTransactionPending:
    values = {"transaction_id": f"tx-{secrets.token_hex(8)}", "iban": PAYEE_IBAN, "amount": 12_000, "currency": "EUR",
              "remittance_information": remittance, "debtor_name": "Acme GmbH"}
    return BankTransactionPending(**{**values, **fields})


def pending_credits(platform: Platform, outcome: str) -> float:
    return platform.payments.service.metrics.registry.get_sample_value("invoicing_pending_credits_total",
                                                                        {"outcome": outcome}) or 0


async def test_a_pending_credit_naming_an_open_invoice_announces_payment_pending_and_stores_nothing():
    platform = Platform("payments")
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2026-00001"))
    credit = pending_credit(f"Invoice {invoice.number}", value_date=date(2020, 1, 2))
    envelope = platform.envelope(credit)

    caused = await platform.send(credit, envelope=envelope)

    announced = only(caused, "payment.pending")
    assert (announced.invoice_id, announced.transaction_id, announced.amount, announced.currency) == (
        invoice.id, credit.transaction_id, 12_000, "EUR")
    # Seven days (PAYMENT_PENDING_DAYS) from the notice: its value date is earlier.
    assert announced.expires_at == envelope.time + timedelta(days=7)
    assert of_type(caused, "payment.matched") == [] and pending_credits(platform, "matched") == 1
    assert await TransactionBook(platform.payments.store).unmatched(ACCOUNT, 10) == []
    assert not [write for write in platform.payments.store.writes if write.collection == "transactions"]


async def test_a_value_date_later_than_the_notice_starts_the_expiry_there():
    platform = Platform("payments")
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2026-00002"))
    later = datetime.now(UTC).date() + timedelta(days=10)

    caused = await platform.send(pending_credit(invoice.payment_reference, value_date=later))

    assert only(caused, "payment.pending").expires_at == datetime(later.year, later.month, later.day,
                                                                  tzinfo=UTC) + timedelta(days=7)


@pytest.mark.parametrize(("remittance", "fields"), [
    ("thanks!", {}),  # names no invoice
    ("INV-2026-00003", {"iban": OTHER_IBAN}),  # to another account than the invoice's
    ("INV-2026-00003", {"currency": "CHF"}),
])
async def test_an_unmatched_pending_credit_is_not_queued(remittance, fields):
    platform = Platform("payments")
    await publish(platform, InvoiceFinalized, open_invoice("INV-2026-00003"))

    caused = await platform.send(pending_credit(remittance, **fields))

    assert caused == [] and pending_credits(platform, "unmatched") == 1
    assert await TransactionBook(platform.payments.store).unmatched(ACCOUNT, 10) == []


async def test_a_pending_credit_for_a_paid_invoice_is_not_announced():
    platform = Platform("payments")
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2026-00004", status="paid",
                                                                      amount_remaining=0, amount_paid=12_000))
    assert await platform.send(pending_credit(invoice.number)) == []


# --- with the invoices service ----------------------------------------------------------------


@pytest.fixture
async def platform() -> Platform:
    platform = Platform("invoices", "numbering", "payments")
    await platform.send(configure_account(ACCOUNT))
    return platform


async def finalized(platform: Platform, invoice_id: str = "inv_1"):
    await platform.send(create_invoice(invoice_id))
    return only(await platform.send(FinalizeInvoice(invoice_id=invoice_id)), "invoice.finalized").invoice


async def listed(platform: Platform, **wanted) -> list[str]:
    documents = await Invoices(platform.invoices.store).page(ACCOUNT, InvoiceFilter(**wanted), "due_date", False, 10)
    return [document["listing"]["id"] for document in documents]


async def test_the_invoice_shows_the_pending_payment_until_the_booked_transfer_pays_it(platform):
    invoice = await finalized(platform)
    await finalized(platform, "inv_2")
    notice = pending_credit(f"{invoice.number} thanks", amount=invoice.amount_due, value_date=date.today())

    caused = await platform.send(notice)

    updated = only(caused, "invoice.updated").invoice
    assert (updated.payment_pending, updated.payment_pending_amount, updated.status) == (True, invoice.amount_due,
                                                                                         "open")
    assert await listed(platform, payment_pending=True) == ["inv_1"]
    assert await listed(platform, payment_pending=False) == ["inv_2"]
    stored = await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1")
    assert [entry.action for entry in stored.history][-1] == "payment_pending"

    # The booking comes under another bank reference than the notice: it pays, and the notice is done.
    caused = await platform.send(bank_credit(invoice.payment_reference, amount=invoice.amount_due))

    paid = only(caused, "invoice.paid").invoice
    assert paid.status == "paid" and not paid.payment_pending
    assert await listed(platform, payment_pending=True) == []
    stored = await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1")
    assert [entry.detail.get("reason") for entry in stored.history if entry.action == "payment_pending_cleared"] == [
        "booked"]

    # The same notice again (an import repeated) finds a paid invoice: nothing changes.
    assert of_type(await platform.send(notice), "invoice.updated") == []


async def test_the_pending_payment_expires_on_the_invoice_clock_and_the_invoice_can_be_voided_again(platform):
    invoice = await finalized(platform)
    expires_at = datetime.now(UTC) - timedelta(minutes=5)
    await platform.send(PaymentPending(invoice_id=invoice.id, transaction_id="tx-1", amount=5_000, currency="EUR",
                                       expires_at=expires_at))

    refused = only(await platform.send(VoidInvoice(invoice_id=invoice.id, reason="wrong customer")),
                   "invoice.command_rejected")
    assert refused.reason == "payment_pending"
    stored = await Invoices(platform.invoices.store).get(ACCOUNT, invoice.id)
    assert stored.next_clock_at == expires_at  # what the clock's loop asks for next

    caused = await platform.send(RunInvoiceClock(invoice_id=invoice.id, at=expires_at))

    assert not only(caused, "invoice.updated").invoice.payment_pending
    assert await listed(platform, payment_pending=True) == []
    assert only(await platform.send(VoidInvoice(invoice_id=invoice.id, reason="wrong customer")),
                "invoice.voided").invoice.status == "void"


def test_a_pending_credit_that_breaks_its_schema_is_answered_like_a_booked_one():
    consumer = Platform("payments").payments.consumer
    envelope = Envelope.originate(source="bank-feed", type=BankTransactionPending.type_name, subject="tx-1",
                                  accountid=ACCOUNT, actor="service:bank-feed")
    assert consumer._answers(envelope, "payments.transactions", "invalid_data")
