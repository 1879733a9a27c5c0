"""Every mail the invoices service asks for links the invoice's hosted page (hosted_url), on the
in-memory harness with numbering and the mailer: the invoice mail, the credit note's, a reminder,
each with the token the account's owner was handed, the current one after a rotation."""

from datetime import timedelta

import pytest

from contracts.messages.credit_notes import CreateCreditNote, SendCreditNote
from contracts.messages.invoices import FinalizeInvoice, RotateHostedLink, SendInvoice
from contracts.messages.mail import SendReminderMail
from tests.integration.factories import configure_account, create_invoice
from tests.unit.harness import ACCOUNT, HOSTED_LINKS, Platform, only
from tests.unit.invoices.test_clock import DUE, on, run, scheduled
from tests.unit.invoices.test_lifecycle import LINKS


@pytest.fixture
async def platform() -> Platform:
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT))
    await platform.send(create_invoice("inv_1"))
    return platform


def page(token: str) -> str:
    return f"{HOSTED_LINKS['public_url']}/i/inv_1/{token}"


async def test_the_invoice_and_credit_note_mails_link_the_page_the_owner_was_handed(platform):
    token = only(await platform.send(FinalizeInvoice(invoice_id="inv_1")), "invoice.finalized").hosted_token
    mail = only(await platform.send(SendInvoice(invoice_id="inv_1")), "mail.send_invoice")
    assert mail.hosted_url == page(token)

    rotated = only(await platform.send(RotateHostedLink(invoice_id="inv_1", reason="forwarded")),
                   "invoice.hosted_link_rotated").hosted_token
    assert rotated != token
    assert only(await platform.send(SendInvoice(invoice_id="inv_1")), "mail.send_invoice").hosted_url == page(rotated)

    await platform.send(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_1", amount=1000))
    credit_note_mail = only(await platform.send(SendCreditNote(invoice_id="inv_1", credit_note_id="cn_1")),
                            "mail.send_credit_note")
    assert credit_note_mail.hosted_url == page(rotated)
    # The mailer took them: a link is no reason to refuse a mail.
    assert [m for m in platform.published if m.data.type_name == "mail.rejected"] == []


def test_a_reminder_links_the_page_too():
    invoice = scheduled()
    [reminder] = [event for event in run(invoice, on(DUE - timedelta(days=3))) if isinstance(event, SendReminderMail)]
    assert reminder.hosted_url == invoice.hosted_url(LINKS) and reminder.hosted_url.startswith(
        "https://billing.example.com/i/inv_1/")
