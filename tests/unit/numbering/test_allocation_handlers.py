"""numbering's handlers on the in-memory harness: what one message writes, what it publishes,
and what a redelivery does."""

from datetime import UTC, date, datetime

import pytest

from contracts.messages.invoices import InvoiceDeleted
from contracts.messages.numbering import AllocateNumber
from services.numbering.adapters.ledger import Ledger
from tests.unit.harness import ACCOUNT, Platform, of_type, only

SERIES = f"{ACCOUNT}/INV-{{yyyy}}-{{seq:05}}"


def allocate(invoice_id: str) -> AllocateNumber:
    return AllocateNumber(series_key=SERIES, number_format="INV-{yyyy}-{seq:05}", invoice_id=invoice_id,
                          issued_on=date(2026, 11, 24))


@pytest.fixture
def platform() -> Platform:
    return Platform("numbering")


@pytest.fixture
def ledger(platform) -> Ledger:
    return Ledger(platform.numbering.store)


async def test_numbers_follow_each_other_without_gaps(platform):
    numbers = [only(await platform.send(allocate(invoice)), "number.allocated").number
               for invoice in ("inv_a", "inv_b", "inv_c")]
    assert numbers == ["INV-2026-00001", "INV-2026-00002", "INV-2026-00003"]


async def test_one_message_is_one_write_of_state_outbox_and_message_id_and_the_outbox_is_cleared_once_published(
        platform, ledger):
    command = allocate("inv_a")
    envelope = platform.envelope(command)
    platform.numbering.crash_at("inbox", "insert_new")  # after publishing and clearing the outbox
    [allocated] = await platform.send(command, envelope=envelope)
    writes = [(write.collection, write.operation) for write in platform.numbering.store.writes]
    assert writes == [("allocations", "insert"), ("allocations", "set_fields")]
    stored = await ledger.held_by(ACCOUNT, "inv_a")
    assert (stored.handled, stored.outbox) == ([str(envelope.id)], [])
    assert allocated.envelope.causationid == str(envelope.id)


async def test_a_redelivered_allocation_changes_nothing_and_has_nothing_left_to_publish(platform, ledger):
    command = allocate("inv_a")
    platform.numbering.crash_at("inbox", "insert_new")  # so the redelivery reaches the handler
    await platform.send(command)
    assert await platform.recover() == []
    assert (await ledger.held_by(ACCOUNT, "inv_a")).version == 1
    # Once remembered, the same record again is not even handed to the handler.
    assert await platform.redeliver(platform.published[0], to="numbering") == []


async def test_a_later_request_for_the_same_invoice_gets_the_same_number(platform, ledger):
    [first] = await platform.send(allocate("inv_a"))
    [later] = await platform.send(allocate("inv_a"))
    assert later.data.number == first.data.number
    assert later.envelope.id != first.envelope.id  # an answer to the later request
    assert (await ledger.held_by(ACCOUNT, "inv_a")).version == 1


async def test_a_crash_before_publishing_leaves_the_event_for_the_restart_to_publish(platform, ledger):
    command = allocate("inv_a")
    platform.numbering.crash_before_publishing()
    assert await platform.send(command) == []
    assert [len(messages) for _, messages in await ledger.pending()] == [1]
    recovered = await platform.recover()
    assert [m.data.type_name for m in recovered] == ["number.allocated"]
    assert len(of_type(platform.published, "number.allocated")) == 1
    assert (await ledger.held_by(ACCOUNT, "inv_a")).outbox == []


async def test_a_deleted_invoice_leaves_its_number_as_a_gap_once(platform, ledger):
    await platform.send(allocate("inv_a"))
    deleted = InvoiceDeleted(invoice_id="inv_a", status="open", number="INV-2026-00001", series_key=SERIES,
                             reason="duplicate", deleted_at=datetime(2026, 11, 25, tzinfo=UTC))
    first = await platform.send(deleted)
    assert [m.data.type_name for m in first] == ["number.released"]
    assert await platform.send(deleted) == []  # another delivery of the news, with another id
    entry = await ledger.held_by(ACCOUNT, "inv_a")
    assert (entry.status, entry.reason) == ("gap", "duplicate")
    # The number is never handed out again.
    assert only(await platform.send(allocate("inv_b")), "number.allocated").number == "INV-2026-00002"


async def test_another_accounts_series_is_refused(platform):
    command = allocate("inv_a").model_copy(update={"series_key": "other/INV-{yyyy}-{seq:05}"})
    assert only(await platform.send(command), "number.rejected").reason == "account_mismatch"
