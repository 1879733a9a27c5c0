"""The delivery window on the in-memory harness, with the mailer's delivery loop on a stand-in
relay: a mail sent automatically waits the account's mail_delay_minutes after it is queued, an
invoice.send goes at once (tests/integration/test_auto_send.py: the same through the catcher)."""

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta

from contracts.messages.common import Customer
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from services.mailer.adapters.mail_jobs import MailJobs
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, only
from tests.unit.mailer.delivery_loop import Relay, deliver_until_idle, delivery_loop

CUSTOMER = "ap@globex.example"


async def finalized(*addresses: str) -> Platform:
    """A platform with one finalized invoice per address, inv_1 on: each to its address."""
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT))
    for number, address in enumerate(addresses, start=1):
        await platform.send(create_invoice(f"inv_{number}", customer=Customer(name="Globex", email=[address],
                                                                              address=CUSTOMER_ADDRESS)))
        await platform.send(FinalizeInvoice(invoice_id=f"inv_{number}"))
    return platform


@contextlib.asynccontextmanager
async def services_loop(platform: Platform, relay: Relay, interval: float):
    """The service's own loop, which shares its jobs with the consumer, on `relay`, waiting
    `interval` seconds between batches, running until the block ends."""
    [loop] = [task.__self__ for task in platform.mailer.service.background_tasks]
    loop.settings = loop.settings.model_copy(update={"batch_interval_seconds": interval})
    loop.relay = relay
    loop.renderer.document = stand_in_document
    running = asyncio.create_task(loop.deliver_in_batches())
    try:
        yield loop
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


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


async def test_a_mail_due_at_once_wakes_the_delivery_loop_instead_of_waiting_the_interval():
    platform = await finalized(CUSTOMER)
    relay = Relay()
    async with services_loop(platform, relay, interval=5):
        await asyncio.sleep(0.2)  # the loop found nothing due and waits
        sent_at = time.monotonic()
        await platform.send(SendInvoice(invoice_id="inv_1"))
        while not relay.handed and time.monotonic() - sent_at < 1:
            await asyncio.sleep(0.02)
        assert relay.handed and relay.handed[0].at - sent_at < 1


class HeldRelay(Relay):
    """Holds every mail to `held` at the relay until `release` is set."""

    def __init__(self, held: str) -> None:
        super().__init__()
        self.held, self.release = held, asyncio.Event()

    async def deliver(self, message, *, sender, recipients):
        report = await super().deliver(message, sender=sender, recipients=recipients)
        if self.held in recipients:
            await self.release.wait()
        return report


async def test_a_mail_queued_while_a_batch_is_in_flight_starts_without_waiting_for_that_batch():
    platform = await finalized("slow@globex.example", CUSTOMER)
    relay = HeldRelay("slow@globex.example")
    async with services_loop(platform, relay, interval=5):
        await platform.send(SendInvoice(invoice_id="inv_1"))
        handed_by = time.monotonic() + 10
        while not relay.handed and time.monotonic() < handed_by:
            await asyncio.sleep(0.01)
        assert relay.handed
        await platform.send(SendInvoice(invoice_id="inv_2"))  # while inv_1's batch waits for the relay
        # However long the machine takes: inv_1's batch waits for the release, which comes after.
        deadline = time.monotonic() + 10
        while len(relay.handed) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert [handed.recipients for handed in relay.handed] == [["slow@globex.example"], [CUSTOMER]]
        relay.release.set()
        jobs = MailJobs(platform.mailer.store)
        while any(job.status == "queued" for job in await jobs.find([])) and time.monotonic() < deadline + 10:
            await asyncio.sleep(0.01)
        assert {job.invoice_id: job.status for job in await jobs.find([])} == {"inv_1": "sent", "inv_2": "sent"}


async def test_a_look_for_due_mails_that_fails_leaves_the_batch_in_flight_to_finish():
    platform = await finalized(CUSTOMER)
    relay = HeldRelay(CUSTOMER)
    async with services_loop(platform, relay, interval=0.05) as loop:
        due, failed = loop.jobs.due, asyncio.Event()

        async def unanswered(*args):
            if relay.handed and not failed.is_set():  # once the batch is in flight
                failed.set()
                raise ConnectionError("the store did not answer")
            return await due(*args)

        loop.jobs.due = unanswered
        await platform.send(SendInvoice(invoice_id="inv_1"))
        await asyncio.wait_for(failed.wait(), 10)
        relay.release.set()
        deadline = time.monotonic() + 10  # however long the machine takes: cancelled, it never ends
        jobs = MailJobs(platform.mailer.store)
        while (await jobs.find([]))[0].status == "queued" and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        [job] = await jobs.find([])
        assert (job.status, len(relay.handed)) == ("sent", 1)


async def stand_in_document(*_) -> bytes:
    return b"%PDF-1.7 stand-in"
