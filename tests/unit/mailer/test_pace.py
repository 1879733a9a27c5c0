"""MAILER_RATE_PER_SECOND across batches and instances of the delivery loop (domain.pace): the
slots a batch reserves are after those of the batches before it, whichever loop ran them."""

from contracts.messages.common import Customer
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from tests.integration.factories import CUSTOMER_ADDRESS, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform
from tests.unit.mailer.delivery_loop import Relay, delivery_loop

RATE = 10  # a start every 0.1 s


async def test_consecutive_batches_of_two_loops_start_no_faster_than_the_rate():
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT))
    for number in range(6):
        invoice_id = f"inv_{number}"
        await platform.send(create_invoice(invoice_id, customer=Customer(
            name="Globex", email=[f"ap{number}@globex.example"], address=CUSTOMER_ADDRESS)))
        await platform.send(FinalizeInvoice(invoice_id=invoice_id))
        await platform.send(SendInvoice(invoice_id=invoice_id))
    relay = Relay()
    first, second = (delivery_loop(platform, relay, instance=name, batch_size=2, rate_per_second=RATE)
                     for name in ("mailer-a", "mailer-b"))
    # Full batches one right after the other, as a backlog runs: two of one loop, then the other's.
    assert [await first.deliver_due(), await first.deliver_due(), await second.deliver_due()] == [True] * 3
    starts = [handed.at for handed in relay.handed]
    assert len(starts) == 6
    # No start before its slot, 1 / RATE after the one before it (a start may come late, when the
    # machine is busy, but a late one does not move the later slots earlier). Timers may fire a
    # little early: 10 ms.
    since_first = [start - starts[0] for start in starts]
    assert all(elapsed > slot / RATE - 0.01 for slot, elapsed in enumerate(since_first)), since_first
