"""The invoice clock's loop: finds the invoices whose next clock moment has come and asks for
their clock to run, with an `invoice.run_clock` command on the invoice's own partition.

The loop writes no invoice. The consumer stays each invoice's one writer: the clock's change is
handled in order with every other message about the invoice, so a payment and the past-due
moment arriving together cannot race, and nothing of either is lost between a commit and the
clearing of an outbox (which a second writer could do under the first one's feet).

Each command's id is derived from the invoice and the moment, so every instance of the service
and every restart ask with the same message: the consumer's inbox and the invoice's own memory
of the messages that changed it make it one change, and the invoice announces each moment once
because it remembers what it announced. Running the clock moves the invoice's next moment, so
the next command is a new one.
"""

import asyncio
import time
import uuid
from datetime import datetime

from chassis.messaging import Outgoing
from chassis.service import Service
from contracts.envelope import Envelope
from contracts.messages.invoices import RunInvoiceClock
from services.invoices.adapters.invoices import Invoices
from services.invoices.clock import Clock
from services.invoices.domain.invoice import Invoice
from services.invoices.metrics import InvoiceMetrics
from services.invoices.settings import InvoicesSettings

_CLOCK_ID_NAMESPACE = uuid.UUID("3e0f6d52-9b7a-4c1e-8d2f-5a4b3c2d1e0f")
ACTOR = "service:invoices-clock"
# A command not handled after this long (the consumer is far behind, or it was dead-lettered) is
# asked for again; before that, the loop does not send the same command at every interval.
_ASK_AGAIN_AFTER_SECONDS = 60.0


def clock_command(invoice: Invoice, at: datetime) -> Outgoing:
    data = RunInvoiceClock(invoice_id=invoice.id, at=at)
    # Invoice ids are per account, so the account is part of what names the moment.
    message_id = uuid.uuid5(_CLOCK_ID_NAMESPACE, f"{invoice.account_id}/{invoice.id}@{at.isoformat()}")
    envelope = Envelope.originate(id=message_id, source="invoices", type=data.type_name, subject=invoice.id,
                                  accountid=invoice.account_id, actor=ACTOR)
    return Outgoing(envelope, data)


class ClockScheduler:
    def __init__(self, service: Service, invoices: Invoices, clock: Clock, settings: InvoicesSettings,
                 metrics: InvoiceMetrics) -> None:
        self.service = service
        self.invoices = invoices
        self.clock = clock
        self.settings = settings
        self.metrics = metrics
        self._asked: dict[uuid.UUID, float] = {}

    async def tick_forever(self) -> None:
        while True:
            await self.ask_due()
            await asyncio.sleep(self.settings.clock_interval_seconds)

    async def ask_due(self) -> int:
        """Send the clock command of every invoice due now; returns how many were sent."""
        self.clock.reload()
        now = self.clock.now()
        due = await self.invoices.clock_due(now, self.settings.clock_batch_size)
        # The earliest first: how late the oldest moment still waiting is.
        self.metrics.clock_delay.set((now - due[0].next_clock_at).total_seconds() if due else 0)
        for account_id, now in self.clock.accounts_ahead().items():
            due += await self.invoices.clock_due(now, self.settings.clock_batch_size, account_id=account_id)
        started = time.monotonic()
        self._asked = {key: at for key, at in self._asked.items() if started - at < _ASK_AGAIN_AFTER_SECONDS}
        by_id = {command.envelope.id: command for command in (clock_command(invoice, invoice.next_clock_at)
                                                               for invoice in due)}
        commands = [command for key, command in by_id.items() if key not in self._asked]
        deliveries = [await self.service.publisher.send(command) for command in commands]
        await asyncio.gather(*deliveries)
        self._asked.update((command.envelope.id, started) for command in commands)
        return len(commands)
