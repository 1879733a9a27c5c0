"""The unit of work's write order: named by the handler, checked, and what a redelivery keeps."""

import pytest

from chassis.aggregate import Aggregate
from chassis.context import HandlerContext
from chassis.repository import Repository
from chassis.storage.memory import MemoryStore
from chassis.unit_of_work import AlreadyHandled
from contracts.envelope import Envelope
from contracts.messages.common import CommandRejected
from contracts.messages.payments import PaymentRemoved


class Thing(Aggregate):
    name: str = ""


class Things(Repository[Thing]):
    model = Thing
    collection_name = "things"


class Written(list):
    """The ids of the aggregates written, in order; the write of `failing` fails once."""

    failing: str | None = None


@pytest.fixture
def things():
    repository = Things(MemoryStore())
    written = Written()
    for name in ("insert", "update"):
        write = getattr(repository, name)

        async def recording(aggregate, *args, _write=write):
            if aggregate.id == written.failing:
                written.failing = None
                raise ConnectionError("the store went away")
            written.append(aggregate.id)
            await _write(aggregate, *args)
        setattr(repository, name, recording)
    repository.written = written
    return repository


ENVELOPE = Envelope.originate(source="tests", type="payment.remove", subject="inv_1", accountid="acct", actor="user:t")


def context() -> HandlerContext:
    return HandlerContext(ENVELOPE, None, "tests", CommandRejected)


def removed() -> PaymentRemoved:
    return PaymentRemoved(invoice_id="inv_1", payment_id="p1", amount=1, currency="EUR")


async def test_commit_writes_in_the_order_named_not_the_order_loaded(things):
    uow = context().uow
    last, part = uow.add(things, Thing(id="last")), uow.add(things, Thing(id="part"))
    await uow.commit(part, last)
    assert things.written == ["part", "last"]


async def test_a_change_of_several_aggregates_must_name_its_order_and_every_changed_one(things):
    uow = context().uow
    uow.add(things, Thing(id="a")), uow.add(things, Thing(id="b"))
    with pytest.raises(ValueError, match="names the order"):
        await uow.commit()
    uow = context().uow
    first = uow.add(things, Thing(id="a"))
    uow.add(things, Thing(id="b"))
    with pytest.raises(ValueError, match="leaves out"):
        await uow.commit(first)
    assert things.written == []
    await things.insert(Thing(id="read"))
    uow = context().uow
    await uow.get_part(things, "read")
    await uow.commit(uow.add(things, Thing(id="c")))  # a part only read to decide is not written
    assert things.written[-1:] == ["c"] and (await things.get("read")).version == 0
    uow = context().uow
    read = await uow.get_part(things, "read")
    read.record(removed())
    with pytest.raises(ValueError, match="leaves out"):
        await uow.commit(uow.add(things, Thing(id="d")))


async def test_a_redelivery_keeps_the_part_it_wrote_publishes_its_outbox_again_and_writes_the_rest(things):
    things.written.failing = "last"
    first = context()
    part, last = first.uow.add(things, Thing(id="part")), first.uow.add(things, Thing(id="last"))
    part.record(removed())
    with pytest.raises(ConnectionError):
        await first.uow.commit(part, last)
    again = context()
    kept = await again.uow.get_part(things, "part")
    kept.name = "changed again"
    kept.record(removed())
    await again.uow.commit(kept, again.uow.add(things, Thing(id="last")))
    assert things.written == ["part", "last"]  # the part once, before the crash
    assert (await things.get("part")).name == ""
    assert [m.envelope.id for m in again.emitted] == [m.envelope.id for m in first.emitted]
    with pytest.raises(AlreadyHandled):
        await context().uow.get(things, "last")
