"""The delivery window on the in-memory harness, with the mailer's delivery loop on a stand-in
relay: a mail sent automatically waits the account's mail_delay_minutes after it is queued, an
invoice.send goes at once (tests/integration/test_auto_send.py: the same through the catcher)."""

from datetime import UTC, datetime, timedelta

from contracts.messages.common import Customer
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from services.mailer.adapters.mail_jobs import MailJobs
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, only
from tests.unit.mailer.delivery_loop import Relay, deliver_until_idle, delivery_loop

CUSTOMER = "ap@globex.example"


async def test_a_mail_sent_automatically_waits_for_the_window_and_an_asked_one_does_not():
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT, send_on_finalize=True, mail_delay_minutes=10))
    await platform.send(create_invoice("inv_1", customer=Customer(name="Globex", email=[CUSTOMER],
                                                                  address=CUSTOMER_ADDRESS)))
    automatic = only(await platform.send(FinalizeInvoice(invoice_id="inv_1")), "mail.send_invoice")
    asked = only(await platform.send(SendInvoice(invoice_id="inv_1")), "mail.send_invoice")
    relay = Relay()
    await deliver_until_idle(delivery_loop(platform, relay), platform)
    assert len(relay.to(CUSTOMER)) == 1
    jobs = {job.id: job for job in await MailJobs(platform.mailer.store).find([])}
    assert (jobs[asked.mail_id].status, jobs[automatic.mail_id].status) == ("sent", "queued")
    waiting = jobs[automatic.mail_id]
    assert waiting.next_attempt_at == waiting.queued_at + timedelta(minutes=10)
    assert not waiting.is_due(datetime.now(UTC)) and waiting.is_due(waiting.queued_at + timedelta(minutes=10))
