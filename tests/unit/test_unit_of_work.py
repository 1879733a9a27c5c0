"""The unit of work's write order: named by the handler, checked, and what a redelivery keeps; and
the copies a consumer takes from the cache, trusted only as far as a write or a second read confirms."""

from types import SimpleNamespace
from unittest.mock import AsyncMock

import pytest
from aiokafka import TopicPartition

from chassis.aggregate import Aggregate
from chassis.consumer import _ForgetCopiesOnRevocation
from chassis.context import HandlerContext, run_handler
from chassis.repository import Repository
from chassis.storage.cached import CachedStore
from chassis.storage.memory import MemoryStore
from chassis.unit_of_work import AlreadyHandled
from contracts.envelope import Envelope
from contracts.messages.common import CommandRejected
from contracts.messages.payments import PaymentRemoved
from contracts.refusals import Refusal


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


class Counted(MemoryStore):
    """The in-memory store, counting its reads, with another process's writes beside this one's."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def collection(self, spec):
        documents = super().collection(spec)
        get = type(documents).get

        async def counted(document_id, _documents=documents):
            self.reads += 1
            return await get(_documents, document_id)
        documents.get = counted
        return documents


@pytest.fixture
def cached():
    inner = Counted()
    store = CachedStore(inner, max_bytes=1 << 20)
    return SimpleNamespace(inner=inner, store=store, things=Things(store), elsewhere=Things(inner))


def new_message():
    """What the consumer gives run_handler for a message: its contexts, cached copies allowed or not."""
    envelope = Envelope.originate(source="tests", type="thing.rename", subject="t", accountid="acct", actor="user:t")
    return lambda recall: HandlerContext(envelope, None, "tests", CommandRejected, recall=recall)


def renaming(cached, runs: list[str], *, refuse_unless: str | None = None):
    """A handler that renames `t`, or refuses to unless it is called `refuse_unless`."""

    async def handler(context: HandlerContext, data) -> None:
        thing = await context.uow.get(cached.things, "t")
        runs.append(thing.name)
        if refuse_unless is not None and thing.name != refuse_unless:
            raise Refusal("invoice_not_open", "Not ready.")
        thing.name = f"renamed from {thing.name!r}"
        await context.uow.commit()
    return handler


async def test_a_consumer_takes_the_aggregate_it_wrote_from_the_cache_and_a_timer_reads_the_store(cached):
    await cached.things.insert(Thing(id="t"))
    runs: list[str] = []
    await run_handler(renaming(cached, runs), None, new_message())
    await run_handler(renaming(cached, runs), None, new_message())
    assert cached.inner.reads == 0 and runs == ["", "renamed from ''"]
    assert (await cached.elsewhere.get("t")).version == 2
    assert (await new_message()(False).uow.get(cached.things, "t")).version == 2
    assert cached.inner.reads == 2  # the timer's, and the check of the write above


async def test_a_copy_behind_the_store_makes_the_handler_run_again_at_once_from_the_store(cached):
    await cached.things.insert(Thing(id="t"))
    stored = await cached.elsewhere.get("t")
    stored.name, stored.version = "by another instance", 1
    await cached.elsewhere.update(stored, expected_version=0)
    runs: list[str] = []
    context = await run_handler(renaming(cached, runs), None, new_message())  # no StaleDocument
    assert runs == ["", "by another instance"]
    assert (await cached.elsewhere.get("t")).name == "renamed from 'by another instance'"
    assert [m.envelope.id for m in context.emitted] == []  # the first run's context is not kept
    assert cached.things.recall("t").version == 2  # the second run's write is kept


async def test_a_refusal_made_on_a_copy_stands_only_if_the_copy_was_the_stores(cached):
    await cached.things.insert(Thing(id="t"))
    runs: list[str] = []
    with pytest.raises(Refusal):
        await run_handler(renaming(cached, runs, refuse_unless="ready"), None, new_message())
    assert runs == [""]  # the copy was read again, found current: one run
    stored = await cached.elsewhere.get("t")
    stored.name, stored.version = "ready", 1
    await cached.elsewhere.update(stored, expected_version=0)
    await run_handler(renaming(cached, runs, refuse_unless="ready"), None, new_message())
    assert runs == ["", "", "ready"]  # refused on the copy, behind, so run from the store
    assert (await cached.elsewhere.get("t")).name == "renamed from 'ready'"


async def test_a_failed_write_leaves_no_copy_ahead_of_the_store(cached):
    await cached.things.insert(Thing(id="t"))
    cached.inner.collections["things"].update = failing = AsyncMock(side_effect=ConnectionError("away"))
    with pytest.raises(ConnectionError):
        await run_handler(renaming(cached, []), None, new_message())
    assert failing.await_count == 1  # the copy was current: a failure like any other, no second run
    assert cached.things.recall("t") is None and (await cached.elsewhere.get("t")).version == 0


async def test_the_copies_are_dropped_when_the_consumer_loses_partitions(cached):
    await cached.things.insert(Thing(id="t"))
    listener = _ForgetCopiesOnRevocation(cached.store)
    await listener.on_partitions_assigned({TopicPartition("things", 1)})
    await listener.on_partitions_revoked(set())  # a first join revokes nothing
    assert cached.things.recall("t") is not None
    await listener.on_partitions_revoked({TopicPartition("things", 0)})
    assert cached.things.recall("t") is None


async def test_nothing_is_written_that_rests_on_a_copy_behind_the_store(cached):
    await cached.things.insert(Thing(id="source"))
    await cached.things.insert(Thing(id="copy"))
    source = await cached.elsewhere.get("source")
    source.name, source.version = "new", 1
    await cached.elsewhere.update(source, expected_version=0)
    runs: list[str] = []

    async def copy_the_name(context: HandlerContext, data) -> None:
        read = await context.uow.get_part(cached.things, "source")  # read to decide, not written
        written = await context.uow.get(cached.things, "copy")
        runs.append(read.name)
        written.name = read.name
        await context.uow.commit(written)

    await run_handler(copy_the_name, None, new_message())
    assert runs == ["", "new"]
    copied = await cached.elsewhere.get("copy")
    assert (copied.name, copied.version) == ("new", 1)  # written once, from the store's source
