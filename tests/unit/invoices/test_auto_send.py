"""Auto-send on the in-memory harness (invoices, numbering, payments and the mailer answering as on
the stack): the account's settings make the invoice ask for its mail on finalize, a receipt when a
payment pays it and a credit note's mail when it is issued, once per cause whatever is delivered
again or recovered after a crash (tests/integration/test_auto_send.py proves the real path)."""

from datetime import date, timedelta

import pytest

from contracts.messages.common import Customer
from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.invoices import FinalizeInvoice, MarkInvoicePaid
from contracts.messages.payments import RecordPayment
from services.invoices.adapters.invoices import Invoices
from services.mailer.adapters.mail_jobs import MailJobs
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, HOSTED_LINKS, Platform, of_type, only

AUTO = {"send_on_finalize": True, "send_receipts": True, "send_credit_notes": True}


async def platform_with(**settings) -> Platform:
    platform = Platform("invoices", "numbering", "payments", "mailer")
    await platform.send(configure_account(ACCOUNT, **settings))
    return platform


async def open_invoice(platform: Platform, invoice_id: str = "inv_1", **overrides):
    await platform.send(create_invoice(invoice_id, **overrides))
    return await platform.send(FinalizeInvoice(invoice_id=invoice_id))


def history(platform: Platform, action: str, invoice_id: str = "inv_1"):
    invoice = platform.invoices.store.collections["invoices"].rows[f"{ACCOUNT}/{invoice_id}"]
    return [entry["detail"] for entry in invoice["history"] if entry["action"] == action]


async def jobs(platform: Platform):
    return await MailJobs(platform.mailer.store).find([])


async def test_a_finalized_invoice_is_mailed_once_to_its_customer_in_their_language():
    platform = await platform_with(**AUTO, mail_delay_minutes=5)
    caused = await open_invoice(platform, customer=Customer(name="Globex", email=["ap@globex.example"],
                                                            cc=["cfo@globex.example"], language="fr",
                                                            address=CUSTOMER_ADDRESS))
    mail = only(caused, "mail.send_invoice")
    assert (mail.kind, mail.to, mail.cc, mail.language, mail.automatic) == (
        "invoice", ["ap@globex.example"], ["cfo@globex.example"], "fr", True)
    assert mail.invoice.status == "open" and mail.invoice.number
    assert mail.hosted_url and mail.hosted_url.startswith(f"{HOSTED_LINKS['public_url']}/i/inv_1/")
    [requested] = history(platform, "send_requested")
    assert (requested["sent"], requested["cause"], requested["mail_id"]) == ("automatically", "finalized", mail.mail_id)
    # Queued at once, first tried once the account's delivery window has passed.
    [job] = await jobs(platform)
    assert job.next_attempt_at - job.queued_at == timedelta(minutes=5)
    assert only(caused, "mail.queued").mail_id == mail.mail_id


async def test_without_the_settings_nothing_is_sent_automatically():
    platform = await platform_with()
    caused = await open_invoice(platform)
    invoice = only(caused, "invoice.finalized").invoice
    caused = await platform.send(RecordPayment(invoice_id="inv_1", payment_id="p-1", amount=invoice.total,
                                               currency="EUR", paid_on=date(2026, 11, 20)))
    assert only(caused, "invoice.paid") and not of_type(caused, "mail.send_invoice")
    assert await jobs(platform) == []


async def test_a_customer_without_an_address_gets_no_mail_and_the_history_says_why():
    platform = await platform_with(**AUTO)
    caused = await open_invoice(platform, customer=Customer(name="Walk-in customer", address=CUSTOMER_ADDRESS))
    assert not of_type(caused, "mail.send_invoice")
    assert not of_type(caused, "invoice.command_rejected")  # nobody asked, so nobody is answered
    assert history(platform, "auto_send_skipped") == [
        {"kind": "invoice", "cause": "finalized", "sent": "automatically", "reason": "no_recipient"}]


async def test_the_payment_that_pays_the_invoice_sends_one_receipt_and_a_part_payment_none():
    platform = await platform_with(send_receipts=True)
    invoice = only(await open_invoice(platform), "invoice.finalized").invoice
    part = await platform.send(RecordPayment(invoice_id="inv_1", payment_id="p-1", amount=100, currency="EUR",
                                             paid_on=date(2026, 11, 20)))
    assert not of_type(part, "mail.send_invoice")
    rest = await platform.send(RecordPayment(invoice_id="inv_1", payment_id="p-2", amount=invoice.total - 100,
                                             currency="EUR", paid_on=date(2026, 11, 21)))
    receipt = only(rest, "mail.send_invoice")
    assert (receipt.kind, receipt.automatic, receipt.invoice.status, receipt.invoice.amount_paid) == (
        "receipt", True, "paid", invoice.total)
    assert receipt.hosted_url and "/i/inv_1/" in receipt.hosted_url  # a receipt links the page too
    assert [job.kind for job in await jobs(platform)] == ["receipt"]


async def test_an_invoice_marked_paid_by_hand_sends_no_receipt():
    platform = await platform_with(send_receipts=True)
    await open_invoice(platform)
    caused = await platform.send(MarkInvoicePaid(invoice_id="inv_1", note="cash at the counter"))
    assert only(caused, "invoice.paid") and not of_type(caused, "mail.send_invoice")


async def test_an_issued_credit_note_is_mailed_and_its_mail_is_the_credit_notes():
    platform = await platform_with(send_credit_notes=True)
    await open_invoice(platform)
    caused = await platform.send(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_1", amount=969))
    mail = only(caused, "mail.send_credit_note")
    assert (mail.credit_note.id, mail.credit_note.status, mail.automatic, mail.to) == (
        "cn_1", "issued", True, ["ap@globex.example"])
    assert mail.hosted_url and "/i/inv_1/" in mail.hosted_url
    invoice = await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1")
    # Its delivery is the credit note's: the invoice is not marked sent by it.
    assert invoice.credit_note_mails == {mail.mail_id: "cn_1"}


@pytest.mark.parametrize("fault", ["crash_at_the_write", "crash_before_publishing"])
async def test_a_crash_around_the_finalization_still_sends_one_mail(fault):
    platform = await platform_with(**AUTO)
    await platform.send(create_invoice("inv_1"))
    if fault == "crash_at_the_write":
        # kill -9 as the finalized invoice is written: the number is delivered again and applied then.
        platform.invoices.crash_at("invoices", "update", skip=1)
    else:
        # kill -9 once the finalized invoice (with its mail command in its outbox) is written.
        platform.numbering.crash_before_publishing()
        platform.invoices.crash_before_publishing()
    caused = await platform.send(FinalizeInvoice(invoice_id="inv_1"))
    assert platform.undelivered  # the crash came
    caused += await platform.recover()
    caused += await platform.recover()
    assert len({mail.mail_id for mail in of_type(caused, "mail.send_invoice")}) == 1
    assert len(await jobs(platform)) == 1
    assert len(history(platform, "send_requested")) == 1


async def test_a_redelivered_payment_sends_no_second_receipt():
    platform = await platform_with(send_receipts=True)
    invoice = only(await open_invoice(platform), "invoice.finalized").invoice
    caused = await platform.send(RecordPayment(invoice_id="inv_1", payment_id="p-1", amount=invoice.total,
                                               currency="EUR", paid_on=date(2026, 11, 20)))
    [matched] = [message for message in caused if message.data.type_name == "payment.matched"]
    again = await platform.redeliver(matched, to="invoices")
    assert {mail.mail_id for mail in of_type(caused + again, "mail.send_invoice")} == {
        job.id for job in await jobs(platform)}
    assert len(await jobs(platform)) == 1


async def test_the_customers_balance_paying_the_invoice_sends_a_receipt():
    platform = await platform_with(send_receipts=True)
    customer = Customer(id="cus_globex", name="Globex", email=["ap@globex.example"], address=CUSTOMER_ADDRESS)
    first = only(await open_invoice(platform, "inv_1", customer=customer), "invoice.finalized").invoice
    # Overpaid by more than the next invoice: the excess goes to the customer's balance.
    await platform.send(RecordPayment(invoice_id="inv_1", payment_id="p-1", amount=2 * first.total + 1,
                                      currency="EUR", paid_on=date(2026, 11, 20)))
    caused = await open_invoice(platform, "inv_2", customer=customer)
    [receipt] = [mail for mail in of_type(caused, "mail.send_invoice") if mail.invoice_id == "inv_2"
                 and mail.kind == "receipt"]
    assert receipt.invoice.applied_balance == receipt.invoice.total and receipt.invoice.status == "paid"
    assert history(platform, "send_requested", "inv_2")[-1]["cause"] == "paid_from_balance"
