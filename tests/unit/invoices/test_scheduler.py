"""The invoice clock's loop on the in-memory store: which invoices it asks for, and with which ids."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from prometheus_client import CollectorRegistry

from chassis.storage.memory import MemoryStore
from services.invoices.adapters.invoices import Invoices
from services.invoices.clock import Clock
from services.invoices.metrics import InvoiceMetrics
from services.invoices.scheduler import ClockScheduler
from services.invoices.settings import InvoicesSettings
from tests.unit.invoices.test_lifecycle import open_invoice

DUE_PAST = datetime(2026, 11, 17, tzinfo=UTC)


class Sent:
    def __init__(self) -> None:
        self.messages = []

    async def send(self, message):
        self.messages.append(message)
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future


async def stored(invoices: Invoices, invoice_id: str, account_id: str = "acct"):
    invoice = open_invoice()
    invoice.id, invoice.account_id = invoice_id, account_id
    invoice.take_recorded()
    await invoices.insert(invoice)
    return invoice


def scheduler(invoices: Invoices, clock: Clock) -> tuple[ClockScheduler, Sent]:
    sent = Sent()
    metrics = InvoiceMetrics(CollectorRegistry())
    return ClockScheduler(SimpleNamespace(publisher=sent), invoices, clock, InvoicesSettings(), metrics), sent


def delay(loop: ClockScheduler) -> float:
    return loop.metrics.clock_delay.collect()[0].samples[0].value


class FixedClock(Clock):
    def __init__(self, at: datetime, offsets_file: str = "") -> None:
        super().__init__(offsets_file)
        self.at = at

    def now(self, account_id: str | None = None) -> datetime:
        return self.at + self.offsets.get(account_id, timedelta())


async def test_every_instance_asks_with_the_same_command_and_once_until_it_is_handled():
    invoices = Invoices(MemoryStore())
    await stored(invoices, "inv_due")
    await stored(invoices, "inv_later")
    later = await invoices.get("acct", "inv_later")
    later.due_date = later.due_date + timedelta(days=30)
    await invoices.update(later, later.version)

    first, first_sent = scheduler(invoices, FixedClock(DUE_PAST))
    second, second_sent = scheduler(invoices, FixedClock(DUE_PAST))
    assert await first.ask_due() == 1 and await second.ask_due() == 1
    [a], [b] = first_sent.messages, second_sent.messages
    assert a.envelope.id == b.envelope.id and a.data.invoice_id == "inv_due" and a.data.at == DUE_PAST
    assert a.envelope.subject == "inv_due" and a.envelope.accountid == "acct"
    assert await first.ask_due() == 0  # asked already, not handled yet: not sent at every interval

    late, _ = scheduler(invoices, FixedClock(DUE_PAST + timedelta(seconds=30)))
    await late.ask_due()
    assert delay(late) == 30 and delay(first) == 0


async def test_an_account_with_a_test_clock_offset_is_asked_for_by_its_own_time(tmp_path):
    offsets = tmp_path / "clock.json"
    invoices = Invoices(MemoryStore())
    await stored(invoices, "inv_a", account_id="acct_a")
    await stored(invoices, "inv_b", account_id="acct_b")
    loop, sent = scheduler(invoices, FixedClock(DUE_PAST - timedelta(days=10), str(offsets)))
    assert await loop.ask_due() == 0
    offsets.write_text(json.dumps({"acct_b": timedelta(days=10).total_seconds()}))
    assert await loop.ask_due() == 1
    assert [message.data.invoice_id for message in sent.messages] == ["inv_b"]
