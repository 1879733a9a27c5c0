"""numbering's handlers on the chassis' unit of work, with the in-memory store: what one message
writes, what it publishes, and what a redelivery does."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest

from chassis.consumer import Consumer
from chassis.context import HandlerContext
from chassis.settings import ServiceSettings
from chassis.storage.memory import MemoryStore
from contracts.envelope import Envelope
from contracts.messages.invoices import InvoiceDeleted
from contracts.messages.numbering import AllocateNumber, NumberRejected
from services.numbering import handlers
from services.numbering.adapters.ledger import Ledger
from services.numbering.metrics import NumberingMetrics

SERIES = "acct/INV-{yyyy}-{seq:05}"


class Harness:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.ledger = Ledger(self.store)
        self.consumer = Consumer(service="numbering", broker=None, publisher=None, inbox=None, metrics=None,
                                 settings=ServiceSettings(), rejection=NumberRejected)
        handlers.register(SimpleNamespace(consumer=self.consumer), self.ledger, NumberingMetrics(_registry()))

    async def handle(self, data, envelope: Envelope | None = None) -> HandlerContext:
        envelope = envelope or Envelope.originate(source="tests", type=data.type_name, subject=data.aggregate_id(),
                                                  accountid="acct", actor="user:test")
        context = await self.consumer._run(self.consumer.handlers[data.type_name], envelope, data)
        await context.published()
        return context


def _registry():
    from prometheus_client import CollectorRegistry

    return CollectorRegistry()


def allocate(invoice_id: str) -> AllocateNumber:
    return AllocateNumber(series_key=SERIES, number_format="INV-{yyyy}-{seq:05}", invoice_id=invoice_id,
                          issued_on=date(2026, 11, 24))


@pytest.fixture
def harness() -> Harness:
    return Harness()


async def test_numbers_follow_each_other_without_gaps(harness):
    numbers = []
    for invoice in ("inv_a", "inv_b", "inv_c"):
        context = await harness.handle(allocate(invoice))
        numbers.append(context.emitted[0].data.number)
    assert numbers == ["INV-2026-00001", "INV-2026-00002", "INV-2026-00003"]


async def test_one_message_is_one_write_of_state_outbox_and_message_id_and_the_outbox_is_cleared_once_published(harness):
    command = allocate("inv_a")
    envelope = Envelope.originate(source="tests", type=command.type_name, subject=SERIES, accountid="acct",
                                  actor="user:test")
    context = HandlerContext(envelope, command, "numbering", NumberRejected)
    await harness.consumer.handlers[command.type_name](context, command)
    stored = await harness.ledger.held_by("acct", "inv_a")
    assert stored.handled == [str(envelope.id)]
    assert [entry["headers"]["ce_id"] for entry in stored.outbox] == [str(context.emitted[0].envelope.id)]
    assert [aggregate_id for aggregate_id, _ in await harness.ledger.pending()] == [stored.id]
    await context.published()
    assert (await harness.ledger.held_by("acct", "inv_a")).outbox == []
    assert await harness.ledger.pending() == []


async def test_a_redelivered_allocation_changes_nothing_and_has_nothing_left_to_publish(harness):
    command = allocate("inv_a")
    envelope = Envelope.originate(source="tests", type=command.type_name, subject=SERIES, accountid="acct",
                                  actor="user:test")
    await harness.handle(command, envelope)
    again = await harness.handle(command, envelope)
    assert again.emitted == []
    assert (await harness.ledger.held_by("acct", "inv_a")).version == 1


async def test_a_later_request_for_the_same_invoice_gets_the_same_number(harness):
    first = await harness.handle(allocate("inv_a"))
    later = await harness.handle(allocate("inv_a"))
    assert later.emitted[0].data.number == first.emitted[0].data.number
    assert later.emitted[0].envelope.id != first.emitted[0].envelope.id  # an answer to the later request
    assert (await harness.ledger.held_by("acct", "inv_a")).version == 1


async def test_a_crash_before_publishing_leaves_the_event_for_the_redelivery_to_publish(harness):
    command = allocate("inv_a")
    envelope = Envelope.originate(source="tests", type=command.type_name, subject=SERIES, accountid="acct",
                                  actor="user:test")
    crashed = HandlerContext(envelope, command, "numbering", NumberRejected)
    await harness.consumer.handlers[command.type_name](crashed, command)  # committed, never published
    redelivered = await harness.handle(command, envelope)
    assert [m.envelope.id for m in redelivered.emitted] == [crashed.emitted[0].envelope.id]
    assert (await harness.ledger.held_by("acct", "inv_a")).outbox == []


async def test_a_deleted_invoice_leaves_its_number_as_a_gap_once(harness):
    await harness.handle(allocate("inv_a"))
    deleted = InvoiceDeleted(invoice_id="inv_a", status="open", number="INV-2026-00001", series_key=SERIES,
                             reason="duplicate", deleted_at=datetime(2026, 11, 25, tzinfo=UTC))
    first = await harness.handle(deleted)
    assert [m.data.type_name for m in first.emitted] == ["number.released"]
    second = await harness.handle(deleted)  # another delivery of the news, with another id
    assert second.emitted == []
    entry = await harness.ledger.held_by("acct", "inv_a")
    assert (entry.status, entry.reason) == ("gap", "duplicate")
    # The number is never handed out again.
    assert (await harness.handle(allocate("inv_b"))).emitted[0].data.number == "INV-2026-00002"


async def test_another_accounts_series_is_refused(harness):
    command = allocate("inv_a").model_copy(update={"series_key": "other/INV-{yyyy}-{seq:05}"})
    context = await harness.handle(command)
    assert context.emitted[0].data.reason == "account_mismatch"
