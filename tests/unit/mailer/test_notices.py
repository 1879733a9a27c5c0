"""Notices of undelivered mails on the in-memory harness (invoices, numbering and the mailer, with
the mailer's delivery loop on a stand-in relay): a mail that bounces for good, is given up or is
dropped tells the account, once, at its notification address; a notice attaches nothing,
announces nothing, and is never noticed itself (tests/integration/test_auto_send.py: a bounce's
notice through the SMTP catcher)."""

from email.message import EmailMessage

import pytest

from contracts.messages.common import Customer
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from services.invoices.adapters.invoices import Invoices
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.domain.delivery import SmtpReply
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Crash, Platform, of_type
from tests.unit.mailer.delivery_loop import USER_UNKNOWN, Relay, deliver_until_idle, delivery_loop

CUSTOMER = "ap@globex.example"
NOTIFY = "alerts@acme.example"


def company_in(country: str) -> dict[str, str]:
    return {"line1": "1 High Street", "postal_code": "12345", "city": "Town", "country": country}


async def platform_with(**settings) -> Platform:
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT, **{"company_address": company_in("GB"), **settings}))
    await platform.send(create_invoice("inv_1", customer=Customer(name="Globex", email=[CUSTOMER],
                                                                  address=CUSTOMER_ADDRESS)))
    await platform.send(FinalizeInvoice(invoice_id="inv_1"))
    return platform


def text(message: EmailMessage) -> str:
    return message.get_content()


async def notices(platform: Platform):
    return [job for job in await MailJobs(platform.mailer.store).find([]) if job.notice is not None]


async def test_a_bounce_tells_the_notification_address_which_invoice_whom_why_and_what_to_do():
    platform = await platform_with(notification_email=NOTIFY)
    relay = Relay(refuse={CUSTOMER: USER_UNKNOWN})
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(delivery_loop(platform, relay), platform)

    [notice] = relay.to(NOTIFY)
    invoice = await Invoices(platform.invoices.store).get(ACCOUNT, "inv_1")
    assert notice["Subject"] == f"Not delivered: invoice {invoice.number} to Globex"
    assert (notice["From"], notice["Auto-Submitted"]) == ("Acme Tooling GmbH <billing@acme.example>",
                                                           "auto-generated")
    body = text(notice)
    assert f'{CUSTOMER}: refused for good by the receiving server, which said "{USER_UNKNOWN}"' in body
    assert f"invoicing mail unsuppress {CUSTOMER}" in body
    assert not notice.is_multipart()  # nothing attached
    # The invoice heard of the bounce, and of nothing the notice did: no event names the notice.
    [job] = await notices(platform)
    mail_events = [m.data for m in platform.published if m.data.type_name.startswith("mail.")]
    assert job.notice.mail_id in {event.mail_id for event in mail_events}
    assert job.id not in {event.mail_id for event in mail_events}
    actions = [entry.action for entry in invoice.history]
    assert "email_bounced" in actions and "email_sent" not in actions and invoice.last_sent_at is None


async def test_without_a_notification_email_the_notice_goes_to_reply_to_else_the_sender():
    platform = await platform_with()  # reply_to accounts@acme.example
    relay = Relay(refuse={CUSTOMER: USER_UNKNOWN})
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(delivery_loop(platform, relay), platform)
    assert len(relay.to("accounts@acme.example")) == 1


async def test_a_notice_that_bounces_is_not_noticed_and_its_address_is_suppressed():
    platform = await platform_with(notification_email=NOTIFY)
    relay = Relay(refuse={CUSTOMER: USER_UNKNOWN, NOTIFY: SmtpReply(550, "5.1.1 no such user")})
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(delivery_loop(platform, relay), platform)
    assert len(relay.to(NOTIFY)) == 1
    [notice] = await notices(platform)
    assert notice.status == "bounced" and len(relay.handed) == 2
    assert await SuppressionList(platform.mailer.store).suppressed_among(ACCOUNT, [NOTIFY]) == {NOTIFY}
    # The next bounce tells nobody: the notification address is suppressed.
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(delivery_loop(platform, relay), platform)
    assert len(relay.to(NOTIFY)) == 1 and len(await notices(platform)) == 1


async def test_a_mail_dropped_because_its_address_is_suppressed_is_noticed_at_once():
    platform = await platform_with(notification_email=NOTIFY)
    relay = Relay(refuse={CUSTOMER: USER_UNKNOWN})
    loop = delivery_loop(platform, relay)
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(loop, platform)
    dropped = await platform.send(SendInvoice(invoice_id="inv_1"))
    assert [event.reason for event in of_type(dropped, "mail.dropped")] == ["suppressed"]
    await deliver_until_idle(loop, platform)
    first, second = relay.to(NOTIFY)
    assert "because the address bounced before and is suppressed" in text(second)


async def test_a_document_that_never_renders_is_noticed_once_its_attempts_are_spent():
    platform = await platform_with(notification_email=NOTIFY)
    relay = Relay()
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(delivery_loop(platform, relay, render_fails=True, max_attempts=2), platform)
    [notice] = relay.to(NOTIFY)
    assert "because the document could not be rendered" in text(notice)
    assert relay.to(CUSTOMER) == []


@pytest.mark.parametrize("country", ["DE", "FR"])
async def test_a_notice_is_written_in_the_language_of_the_accounts_country(country):
    platform = await platform_with(notification_email=NOTIFY, company_address=company_in(country))
    relay = Relay(refuse={CUSTOMER: USER_UNKNOWN})
    await platform.send(SendInvoice(invoice_id="inv_1"))
    await deliver_until_idle(delivery_loop(platform, relay), platform)
    [notice] = relay.to(NOTIFY)
    assert notice["Subject"].startswith({"DE": "Nicht zugestellt: Rechnung", "FR": "Non distribué : la facture"}[country])


async def test_a_crash_between_writing_the_notice_and_the_bounce_sends_one_notice():
    platform = await platform_with(notification_email=NOTIFY)
    relay = Relay(refuse={CUSTOMER: USER_UNKNOWN})
    await platform.send(SendInvoice(invoice_id="inv_1"))
    # kill -9 at the attempt's write of the bounced job (the claim is the first update), after
    # the notice was inserted.
    platform.mailer.crash_at("mail_jobs", "update", skip=1)
    with pytest.raises(Crash):
        await delivery_loop(platform, relay).deliver_due()
    assert len(await notices(platform)) == 1
    restarted = delivery_loop(platform, relay)
    await restarted.release_claims_of_earlier_runs()
    await deliver_until_idle(restarted, platform)
    assert len(relay.to(CUSTOMER)) == 2  # tried again after the crash
    assert len(relay.to(NOTIFY)) == 1 and len(await notices(platform)) == 1


async def test_an_attempt_that_gives_up_on_nobody_does_not_read_the_account():
    platform = await platform_with(notification_email=NOTIFY)
    await platform.send(SendInvoice(invoice_id="inv_1"))
    # The service's own loop, on its measured store.
    [loop] = [task.__self__ for task in platform.mailer.service.background_tasks]
    loop.relay = relay = Relay()

    def account_reads() -> float:
        return platform.mailer.service.metrics.registry.get_sample_value(
            "invoicing_store_operations_total", {"collection": "accounts", "operation": "get"}) or 0

    before = account_reads()
    await loop.deliver_due()
    assert len(relay.to(CUSTOMER)) == 1 and account_reads() == before
