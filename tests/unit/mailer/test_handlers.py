"""The mailer's handlers on the in-memory harness, with the invoices service and numbering making
the invoice and the account's configuration: which mails it queues and which it refuses. Sending
is the delivery loop's (tests/unit/mailer/test_delivery_policy.py, tests/integration/test_mailer.py)."""

import pytest

from contracts.messages.invoices import AccountConfigured, FinalizeInvoice
from contracts.messages.mail import SendInvoiceMail
from services.mailer.adapters.mail_jobs import MailJobs
from tests.integration.factories import configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, only


@pytest.fixture
async def platform() -> Platform:
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT))
    return platform


async def finalized(platform: Platform, account: str = ACCOUNT):
    await platform.send(create_invoice("inv_1"), account)
    return only(await platform.send(FinalizeInvoice(invoice_id="inv_1"), account), "invoice.finalized").invoice


def mail(invoice, mail_id: str = "mail-1", **fields) -> SendInvoiceMail:
    return SendInvoiceMail(mail_id=mail_id, invoice_id=invoice.id, invoice=invoice, to=["ap@globex.example"], **fields)


async def refusal(platform: Platform, command, account: str = ACCOUNT) -> str:
    return only(await platform.send(command, account), "mail.rejected").reason


async def test_a_mail_is_queued_once_and_asked_again_only_answered(platform):
    invoice = await finalized(platform)
    queued = only(await platform.send(mail(invoice)), "mail.queued")
    writes = len(platform.mailer.store.writes)
    again = only(await platform.send(mail(invoice)), "mail.queued")
    assert (again.mail_id, again.to) == (queued.mail_id, queued.to)
    # No write but the inbox's: the job may be the delivery loop's by now.
    assert [w.collection for w in platform.mailer.store.writes[writes:]] == ["inbox"]
    assert [job.id for job in await MailJobs(platform.mailer.store).find([])] == ["mail-1"]


@pytest.mark.parametrize(("change", "reason"), [
    ({"account_id": "acct_somebody_else"}, "account_mismatch"),
    ({"status": "draft", "number": None}, "invoice_not_finalized"),
    ({"id": "inv_other"}, "invoice_mismatch"),
])
async def test_mails_that_cannot_be_honoured_are_refused_and_queue_nothing(platform, change, reason):
    invoice = (await finalized(platform)).model_copy(update=change)
    command = mail(invoice).model_copy(update={"invoice_id": "inv_1"})
    assert await refusal(platform, command) == reason
    assert await MailJobs(platform.mailer.store).find([]) == []


async def test_a_mail_id_of_another_invoices_mail_is_refused(platform):
    invoice = await finalized(platform)
    await platform.send(mail(invoice))
    await platform.send(create_invoice("inv_2"))
    other = only(await platform.send(FinalizeInvoice(invoice_id="inv_2")), "invoice.finalized").invoice
    assert await refusal(platform, mail(other)) == "mail_id_conflict"


async def test_a_mail_for_an_account_the_mailer_does_not_know_or_that_has_no_sender_is_refused(platform):
    invoice = (await finalized(platform)).model_copy(update={"account_id": "acct_new"})
    assert await refusal(platform, mail(invoice), "acct_new") == "unknown_account"
    await platform.send(AccountConfigured(account_id="acct_new", settings={"account_id": "acct_new"}), "acct_new")
    assert await refusal(platform, mail(invoice), "acct_new") == "issuer_missing"
    await platform.send(configure_account("acct_new"), "acct_new")
    assert only(await platform.send(mail(invoice), "acct_new"), "mail.queued").mail_id == "mail-1"
