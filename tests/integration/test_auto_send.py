"""Automatic mails on the real stack (Kafka, the stores, the SMTP catcher): an account that sends
on finalize and sends receipts gets exactly one invoice mail and one receipt per invoice, a mail
sent automatically waits for the account's delivery window, a bounce brings a notice to the
account's notification address, and an address unsuppressed gets the next mail.

The catcher refuses `bounce*` addresses for good and `fixed*` addresses the first time only (a
mailbox repaired after it bounced).
"""

import asyncio
import os
import time
import uuid
from datetime import UTC, date, datetime

from contracts.messages.common import Customer
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from contracts.messages.mail import UnsuppressAddress
from contracts.messages.payments import RecordPayment
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.integration.test_mailer import caught_at_least, caught_mails

os.environ.setdefault("MAILER_BATCH_INTERVAL_SECONDS", "0.2")

AUTO = {"send_on_finalize": True, "send_receipts": True, "send_credit_notes": True}


def unique(local: str) -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@example.com"


def of_account(account_id: str, type_name: str, **data):
    return lambda r: (r.type == type_name and r.headers.get("ce_accountid") == account_id
                      and all(r.data.get(name) == value for name, value in data.items()))


async def configured(producer, event_log, **settings) -> str:
    account_id = f"acct_{uuid.uuid4().hex[:12]}"
    await producer.send(configure_account(account_id, **settings), account_id=account_id)
    await event_log.wait_for(of_account(account_id, "account.configured"))
    return account_id


async def finalized(producer, event_log, account_id: str, customer_email: str) -> dict:
    invoice_id = f"inv_{uuid.uuid4().hex[:8]}"
    customer = Customer(name="Globex Corporation", email=[customer_email], address=CUSTOMER_ADDRESS)
    await producer.send(create_invoice(invoice_id, customer=customer), account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    return (await event_log.wait_for(of_account(account_id, "invoice.finalized", invoice_id=invoice_id))).data["invoice"]


async def test_finalize_mails_the_invoice_once_and_the_payment_a_receipt(services, event_log, producer,
                                                                         smtp_catcher_url):
    account_id = await configured(producer, event_log, **AUTO)
    customer = unique("ap")
    invoice = await finalized(producer, event_log, account_id, customer)

    await caught_at_least(smtp_catcher_url, customer, 1)
    await asyncio.sleep(2)  # many batch intervals: time for a second mail, if there were one
    [mail] = await caught_mails(smtp_catcher_url, customer)
    assert mail["Subject"] == f"Invoice {invoice['number']} from Acme Tooling GmbH"
    assert [part.get_filename() for part in mail.iter_attachments()] == [f"{invoice['number']}.pdf"]

    await producer.send(RecordPayment(invoice_id=invoice["id"], payment_id="p-1", amount=invoice["total"],
                                      currency="EUR", paid_on=date.today()), account_id=account_id)
    await caught_at_least(smtp_catcher_url, customer, 2)
    await asyncio.sleep(2)
    receipts = [m for m in await caught_mails(smtp_catcher_url, customer) if m["Subject"].startswith("Receipt")]
    assert [m["Subject"] for m in receipts] == [f"Receipt for invoice {invoice['number']} from Acme Tooling GmbH"]
    assert len(await caught_mails(smtp_catcher_url, customer)) == 2


async def test_a_bounce_brings_a_notice_and_after_unsuppress_the_next_mail_arrives(services, event_log, producer,
                                                                                  smtp_catcher_url):
    notify = unique("alerts")
    account_id = await configured(producer, event_log, notification_email=notify, **AUTO)
    customer = unique("fixed")  # refused once, accepted from then on
    invoice = await finalized(producer, event_log, account_id, customer)

    await event_log.wait_for(of_account(account_id, "mail.bounced", invoice_id=invoice["id"]))
    await caught_at_least(smtp_catcher_url, notify, 1)
    [notice] = await caught_mails(smtp_catcher_url, notify)
    # In German: the account's company is in Germany (tests.integration.factories).
    assert notice["Subject"] == f"Nicht zugestellt: Rechnung {invoice['number']} an Globex Corporation"
    body = notice.get_content()
    assert customer in body and '"550 5.1.1 mailbox unavailable"' in body
    assert f"invoicing mail unsuppress {customer}" in body
    assert not list(notice.iter_attachments())

    # Suppressed: the next send is dropped, and noticed too.
    await producer.send(SendInvoice(invoice_id=invoice["id"]), account_id=account_id)
    await event_log.wait_for(of_account(account_id, "mail.dropped", invoice_id=invoice["id"], reason="suppressed"))
    await caught_at_least(smtp_catcher_url, notify, 2)

    await producer.send(UnsuppressAddress(address=customer, reason="mailbox repaired"), account_id=account_id)
    lifted = await event_log.wait_for(of_account(account_id, "mail.unsuppressed", address=customer))
    assert (lifted.data["smtp_code"], lifted.data["reason"]) == (550, "mailbox repaired")
    await producer.send(SendInvoice(invoice_id=invoice["id"]), account_id=account_id)
    await caught_at_least(smtp_catcher_url, customer, 1)
    # No notice of a notice, nor of the mail that arrived.
    await asyncio.sleep(2)
    assert len(await caught_mails(smtp_catcher_url, notify)) == 2

    again = await producer.send(UnsuppressAddress(address=customer), account_id=account_id)
    rejected = await event_log.wait_for(lambda r: r.type == "mail.rejected" and r.caused_by(again))
    assert (rejected.data["reason"], rejected.data["address"], rejected.key) == ("not_suppressed", customer, customer)


async def test_a_mail_sent_automatically_waits_for_the_delivery_window_and_a_manual_one_does_not(
    services, event_log, producer, smtp_catcher_url
):
    account_id = await configured(producer, event_log, send_on_finalize=True, mail_delay_minutes=1)
    customer = unique("ap")
    invoice = await finalized(producer, event_log, account_id, customer)
    queued = await event_log.wait_for(of_account(account_id, "mail.queued", invoice_id=invoice["id"]))
    queued_at = datetime.fromisoformat(queued.data["queued_at"])

    await producer.send(SendInvoice(invoice_id=invoice["id"]), account_id=account_id)
    await caught_at_least(smtp_catcher_url, customer, 1)  # the manual send, at once
    assert (datetime.now(UTC) - queued_at).total_seconds() < 50
    assert len(await caught_mails(smtp_catcher_url, customer)) == 1

    started = time.monotonic()
    while len(await caught_mails(smtp_catcher_url, customer)) < 2:
        assert time.monotonic() - started < 90, "the mail sent automatically never arrived"
        await asyncio.sleep(0.5)
    assert (datetime.now(UTC) - queued_at).total_seconds() >= 60
