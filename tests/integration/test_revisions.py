"""A revision on the real stack: `invoice.revise` opens a draft copying an open invoice that has a
manual payment; finalizing the revision voids the original (the account's default correction
rule), both name each other, and payments moves the payment to the revision, so invoices and
payments agree on who was paid what."""

import uuid
from datetime import date

from contracts.messages.invoices import FinalizeInvoice, ReviseInvoice, UpdateInvoice
from contracts.messages.payments import RecordPayment
from tests.integration.factories import configure_account, create_invoice
from tests.integration.test_split_payments import until_payments_knows

TOTAL = 147_350


async def test_a_finalized_revision_voids_the_original_and_takes_its_payments(
    services, producer, event_log, payments_invoices, account_id
):
    original, revision = f"inv_{uuid.uuid4().hex[:16]}", f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    await producer.send(create_invoice(original), account_id=account_id)
    await event_log.wait_for_type("invoice.created", original)
    await producer.send(FinalizeInvoice(invoice_id=original), account_id=account_id)
    await event_log.wait_for_type("invoice.finalized", original)
    await until_payments_knows(payments_invoices, account_id, {original: "open"})
    await producer.send(RecordPayment(invoice_id=original, payment_id=f"pay_{uuid.uuid4().hex[:8]}", amount=50_000,
                                      currency="EUR", paid_on=date.today(), method="cash"), account_id=account_id)
    await event_log.wait_for_type("invoice.payment_applied", original)

    await producer.send(ReviseInvoice(invoice_id=original, new_invoice_id=revision), account_id=account_id)
    created = (await event_log.wait_for_type("invoice.created", revision)).data["invoice"]
    assert (created["status"], created["revision_of"], created["total"]) == ("draft", original, TOTAL)
    again = await producer.send(ReviseInvoice(invoice_id=original, new_invoice_id=f"{revision}x"),
                                account_id=account_id)
    refused = await event_log.wait_for(lambda r: r.type == "invoice.command_rejected" and r.caused_by(again))
    assert refused.data["reason"] == "revision_in_progress"

    await producer.send(UpdateInvoice(invoice_id=revision, changes={"memo": "Corrected delivery address"}),
                        account_id=account_id)
    await event_log.wait_for_type("invoice.updated", revision)
    await producer.send(FinalizeInvoice(invoice_id=revision), account_id=account_id)
    await event_log.wait_for_type("invoice.finalized", revision)

    revised = (await event_log.wait_for_type("invoice.revised", original)).data
    voided = (await event_log.wait_for_type("invoice.voided", original)).data["invoice"]
    assert (voided["status"], voided["revised_by"], voided["amount_paid"]) == ("void", revision, 0)
    [payment_id] = revised["moved_payment_ids"]
    matched = (await event_log.wait_for(lambda r: r.type == "payment.matched" and r.data["invoice_id"] == revision)).data
    assert (matched["payment_id"], matched["amount"]) == (payment_id, 50_000)
    applied = (await event_log.wait_for_type("invoice.payment_applied", revision)).data["invoice"]
    assert (applied["status"], applied["amount_paid"], applied["amount_remaining"], applied["revision_of"]) == (
        "open", 50_000, TOTAL - 50_000, original)
    await until_payments_knows(payments_invoices, account_id, {original: "void", revision: "open"})
