"""Paid and unpaid through invoices' and payments' handlers together (in memory): invoices and
payments never count different payments, whatever a person marks."""

from datetime import date

from contracts.messages.invoices import MarkInvoiceUnpaid, VoidInvoice
from contracts.messages.payments import RecordPayment, RemovePayment
from tests.unit.test_each_write_fails_once import ACCOUNT, before_reconcile, open_invoices
from tests.unit.test_ids_per_account import Platform


def answered(messages, type_name: str):
    [found] = [m.data for m in messages if m.data.type_name == type_name]
    return found


async def counted_by_payments(platform: Platform, invoice_id: str) -> int:
    return sum(p.amount for p in await platform.payment_book.of_invoice(ACCOUNT, invoice_id) if p.counts)


async def test_an_invoice_a_matched_transfer_paid_is_reopened_only_by_removing_the_payment():
    platform = Platform()
    _, transfer = await before_reconcile(platform)
    await platform.send(transfer, ACCOUNT)
    refused = answered(await platform.send(MarkInvoiceUnpaid(invoice_id="inv_1"), ACCOUNT), "invoice.command_rejected")
    assert refused.reason == "payments_recorded" and "payment.remove" in refused.message
    invoice = await platform.invoice_store.get(ACCOUNT, "inv_1")
    # Before: open with 1,473.50 paid and 0.00 remaining. Now: still paid, as payments counts it.
    assert (invoice.status, invoice.amount_paid) == ("paid", await counted_by_payments(platform, "inv_1"))
    removed = await platform.send(RemovePayment(invoice_id="inv_1", payment_id="bt-tx-1"), ACCOUNT)
    reopened = answered(removed, "invoice.marked_unpaid").invoice
    assert (reopened.status, reopened.amount_paid, reopened.amount_remaining) == ("open", 0, reopened.total)
    assert await counted_by_payments(platform, "inv_1") == 0


async def test_a_manual_payment_stays_on_the_invoice_and_in_payments_and_the_invoice_cannot_be_voided():
    platform = Platform()
    invoice = (await open_invoices(platform, "inv_1"))["inv_1"]
    await platform.send(RecordPayment(invoice_id="inv_1", payment_id="cash-1", amount=invoice.total, currency="EUR",
                                      paid_on=date(2026, 11, 20), method="cash"), ACCOUNT)
    refused = answered(await platform.send(MarkInvoiceUnpaid(invoice_id="inv_1"), ACCOUNT), "invoice.command_rejected")
    assert refused.reason == "payments_recorded"
    stored = await platform.invoice_store.get(ACCOUNT, "inv_1")
    assert [p.payment_id for p in stored.payments] == ["cash-1"]
    assert stored.amount_paid == await counted_by_payments(platform, "inv_1") == invoice.total
    void = answered(await platform.send(VoidInvoice(invoice_id="inv_1"), ACCOUNT), "invoice.command_rejected")
    assert void.reason == "invalid_status"  # paid: never void while payments counts it
