"""One contract for every storage adapter: the in-memory one (fast), PostgreSQL (fully: functions,
atomic version checks, index use) and FerretDB (the MongoDB adapter's queries only: it applies
concurrent updates non-atomically and uses no index, so those checks are not asked of it)."""

import asyncio
import os
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from chassis.storage import (
    CollectionSpec,
    Condition,
    DuplicateDocument,
    Index,
    Key,
    Order,
    StaleDocument,
    open_store,
    when_made,
)
from chassis.storage.cached import ENTRY_OVERHEAD, CachedStore
from chassis.storage.memory import MemoryStore
from tests.integration.harness import database_url

DATABASE = "storage_contract"
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def spec(*, cached: bool = False) -> CollectionSpec:
    return CollectionSpec(
        f"things_{uuid.uuid4().hex[:10]}", cached=cached,
        keys=(
            Key("status", "text"),
            Key("amount", "integer"),
            Key("due_at", "timestamp"),
            Key("due_on", "date"),
            Key("urgent", "boolean"),
            Key("names", "text_list"),
            Key("customer", "text", path="customer.id"),
            Key("code", "text"),
        ),
        indexes=(Index(("status", "due_at")), Index(("names",)), Index(("code",), unique=True)),
    )


def thing(thing_id: str, **fields) -> dict:
    return {"id": thing_id, "version": 1, "status": "open", "amount": 100, "due_at": T0.isoformat(),
            "due_on": "2026-11-24", "urgent": False, "names": [], "customer": {"id": "c1"}, "code": thing_id,
            **fields}


def _stores():
    yield pytest.param("memory", id="memory")
    yield pytest.param("postgresql", id="postgresql", marks=pytest.mark.integration)
    yield pytest.param("ferretdb", id="ferretdb", marks=pytest.mark.integration)


@pytest.fixture(params=list(_stores()))
async def store(request):
    if request.param == "memory":
        opened = MemoryStore()
    elif request.param == "postgresql":
        opened = open_store(database_url("postgres"), DATABASE)
    else:
        opened = open_store(os.environ["MONGODB_URL"], DATABASE)
    opened.kind = request.param
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def things(store):
    collection = store.collection(spec())
    await store.prepare()
    return collection


async def test_a_document_comes_back_as_written_and_a_missing_one_is_none(things):
    await things.insert(thing("a", nested={"list": [1, "x", None], "ok": True}))
    assert await things.get("a") == thing("a", nested={"list": [1, "x", None], "ok": True})
    assert await things.get("nope") is None
    assert set(await things.get_many(["a", "nope"])) == {"a"}


async def test_an_id_or_a_unique_key_is_taken_once(things):
    await things.insert(thing("a"))
    with pytest.raises(DuplicateDocument):
        await things.insert(thing("a", code="other"))
    with pytest.raises(DuplicateDocument):
        await things.insert(thing("b", code="a"))


async def test_inserting_many_keeps_the_ones_that_exist(things):
    await things.insert(thing("a", status="first"))
    await things.insert_new([thing("a", status="second"), thing("b"), thing("c")])
    await things.insert_new([])
    assert (await things.get("a"))["status"] == "first"
    assert set(await things.get_many(["a", "b", "c"])) == {"a", "b", "c"}


async def test_an_update_names_the_version_it_replaces(things):
    await things.insert(thing("a"))
    await things.update(thing("a", version=2, status="paid"), expected_version=1)
    assert (await things.get("a"))["status"] == "paid"
    with pytest.raises(StaleDocument):
        await things.update(thing("a", version=3), expected_version=1)
    with pytest.raises(StaleDocument):
        await things.update(thing("missing", version=2), expected_version=1)


async def test_queries_filter_and_sort_on_typed_keys(things):
    # Timestamps as JSON carry a variable number of decimals; they must compare as instants.
    await things.insert(thing("a", amount=5, due_at="2026-11-24T10:00:00.5+00:00", names=["RF18X", "INV-1"]))
    await things.insert(thing("b", amount=40, due_at="2026-11-24T10:00:00+00:00", status="paid", urgent=True))
    await things.insert(thing("c", amount=300, due_at="2026-11-25T09:00:00+00:00", due_on="2026-12-01",
                              customer={"id": "c2"}, names=["INV-2"]))

    async def ids(*where, order=(), limit=None):
        return [d["id"] for d in await things.find(list(where), order_by=list(order), limit=limit)]

    assert await ids(Condition("status", "eq", "open"), order=[Order("amount")]) == ["a", "c"]
    assert await ids(order=[Order("due_at")]) == ["b", "a", "c"]
    assert await ids(order=[Order("amount", descending=True)], limit=2) == ["c", "b"]
    assert await ids(Condition("amount", "gte", 40), Condition("amount", "lt", 300)) == ["b"]
    assert await ids(Condition("due_at", "lte", T0 + timedelta(seconds=1)), order=[Order("due_at")]) == ["b", "a"]
    assert await ids(Condition("due_on", "gt", date(2026, 11, 24))) == ["c"]
    assert await ids(Condition("urgent", "eq", True)) == ["b"]
    # false is a value of its own (the invoices list's payment_pending=false): every store finds it.
    assert await ids(Condition("urgent", "eq", False), order=[Order("amount")]) == ["a", "c"]
    assert await ids(Condition("status", "in", ["paid", "void"])) == ["b"]
    assert await ids(Condition("names", "contains_any", ["INV-2", "RF18X"]), order=[Order("amount")]) == ["a", "c"]
    assert await ids(Condition("customer", "eq", "c2")) == ["c"]
    assert await things.count([Condition("status", "eq", "open")]) == 2
    assert await things.delete_where([Condition("amount", "lt", 50)]) == 2
    assert await ids() == ["c"]


async def test_a_stream_yields_every_match_in_order_and_only_the_fields_asked_for(things):
    # More than one batch, so the store is asked again while the caller consumes.
    await things.insert_new([thing(f"t{n:05d}", amount=n % 7, status="open" if n % 3 else "paid")
                             for n in range(2500)])
    streamed = [d async for d in things.stream([Condition("status", "eq", "open")],
                                               [Order("amount"), Order("code", descending=True)])]
    expected = sorted((d for d in (thing(f"t{n:05d}", amount=n % 7) for n in range(2500)) if int(d["id"][1:]) % 3),
                      key=lambda d: (d["amount"], [-ord(c) for c in d["code"]]))
    assert [d["id"] for d in streamed] == [d["id"] for d in expected]
    assert streamed[0] == expected[0]
    projected = [d async for d in things.stream([Condition("code", "eq", "t00001")], fields=["id", "customer"])]
    assert projected == [{"id": "t00001", "customer": {"id": "c1"}}]


async def test_text_keys_compare_by_code_point(things):
    # Keys built to sort (padded numbers, ISO dates, a sentinel for "none") rely on it.
    for code in ("b", "B", "~", "0|x", "00|x", "a b", "a-c", "ab", "é"):
        await things.insert(thing(f"id-{code}", code=code))
    codes = [d["code"] for d in await things.find(order_by=[Order("code")])]
    assert codes == sorted(codes, key=lambda code: [ord(c) for c in code])
    assert [d["code"] for d in await things.find([Condition("code", "gt", "a-c")], order_by=[Order("code")])] == [
        "ab", "b", "~", "é"]


async def test_queries_use_declared_keys_only(things):
    with pytest.raises(KeyError):
        await things.find([Condition("undeclared", "eq", 1)])


async def test_fields_set_on_many_documents_update_their_keys_too(things):
    await things.insert(thing("a", urgent=True, outbox=[{"x": 1}]))
    await things.insert(thing("b", urgent=True))
    await things.set_fields(["a", "b"], {"urgent": False, "outbox": []})
    assert await things.count([Condition("urgent", "eq", True)]) == 0
    stored = await things.get("a")
    assert stored["outbox"] == [] and stored["version"] == 1 and stored["status"] == "open"


async def test_deleting_a_document(things):
    await things.insert(thing("a"))
    await things.delete("a")
    assert await things.get("a") is None


async def test_of_several_concurrent_writers_of_one_version_exactly_one_wins(store, things):
    if store.kind == "ferretdb":
        pytest.skip("FerretDB 1.24 applies concurrent conditional updates non-atomically (see README)")
    for round_ in range(10):
        thing_id = f"race{round_}"
        await things.insert(thing(thing_id))

        async def write(writer: int, thing_id=thing_id):
            try:
                await things.update(thing(thing_id, version=2, status=f"by{writer}"), expected_version=1)
                return True
            except StaleDocument:
                return False

        results = await asyncio.gather(*(write(writer) for writer in range(8)))
        assert results.count(True) == 1


async def test_postgresql_answers_key_queries_from_an_index(store, things):
    if store.kind != "postgresql":
        pytest.skip("index use is asserted on PostgreSQL; FerretDB uses none, memory has none")
    for number in range(2000):
        await things.insert(thing(f"t{number}", status="paid" if number % 100 else "open", code=f"k{number}"))
    async with store.pool.connection() as connection:
        await connection.execute(f'ANALYZE "{things.spec.name}"')
        cursor = await connection.execute(
            f'EXPLAIN SELECT doc FROM "{things.spec.name}" WHERE k_status = %s ORDER BY k_due_at LIMIT 10', ["open"]
        )
        plan = "\n".join(row[0] for row in await cursor.fetchall())
    assert "Index" in plan and "Seq Scan" not in plan, plan


async def test_a_key_declared_after_documents_were_stored_is_empty_until_they_are_written_again(store, things):
    if store.kind == "memory":
        pytest.skip("the memory store lives as long as its process: it never meets an older collection")
    await things.insert(thing("old", region="north"))
    # The same collection, as a later release of its repository declares it: one key more.
    later = CollectionSpec(things.spec.name, keys=(*things.spec.keys, Key("region", "text")),
                           indexes=(*things.spec.indexes, Index(("region", "status"))))
    reopened = open_store(database_url("postgres") if store.kind == "postgresql" else os.environ["MONGODB_URL"], DATABASE)
    await reopened.open()
    try:
        evolved = reopened.collection(later)
        await reopened.prepare()
        assert [d["id"] for d in await evolved.find([Condition("region", "eq", None)])] == ["old"]
        await evolved.update(await evolved.get("old"), expected_version=1)
        assert [d["id"] for d in await evolved.find([Condition("region", "eq", "north")])] == ["old"]
    finally:
        await reopened.close()


@pytest.fixture
async def cached(store):
    """A cached collection, and the same collection as another process writes it (no cache)."""
    around = CachedStore(store, max_bytes=1 << 20)
    name = spec(cached=True)
    collection = around.collection(name)
    await around.prepare()
    return around, collection, store.collection(name)


async def test_a_cached_collection_keeps_what_it_wrote_and_nothing_it_read(cached):
    around, things, elsewhere = cached
    await things.insert(thing("a"))
    await elsewhere.insert(thing("b"))
    assert things.recall("a") == thing("a") and await things.get("b") == thing("b")
    assert things.recall("b") is None  # written by another process: only read here
    recalled = things.recall("a")
    recalled["customer"]["id"] = "changed by a handler"
    assert things.recall("a") == thing("a")  # no caller shares the copy
    await things.update(thing("a", version=2, status="paid"), expected_version=1)
    await things.set_fields(["a"], {"names": ["X"]})
    assert things.recall("a") == thing("a", version=2, status="paid", names=["X"]) == await things.get("a")
    await things.delete("a")
    assert things.recall("a") is None and await things.get("a") is None


async def test_a_copy_may_fall_behind_the_store_and_a_failed_write_drops_it(cached):
    around, things, elsewhere = cached
    await things.insert(thing("a"))
    await elsewhere.update(thing("a", version=2, status="paid"), expected_version=1)
    assert things.recall("a") == thing("a")  # behind: the version check of the next write tells
    with pytest.raises(StaleDocument):
        await things.update(thing("a", version=2, status="void"), expected_version=1)
    assert things.recall("a") is None
    await things.insert(thing("b"))
    with pytest.raises(DuplicateDocument):
        await things.insert(thing("b"))
    assert things.recall("b") is None


async def test_the_copies_are_bounded_the_least_recently_used_going_first_and_all_dropped_on_revocation(cached):
    around, things, _ = cached
    await things.insert(thing("a"))
    around.cache.max_bytes = 3 * (around.cache.size + 10)  # room for three such documents
    await things.insert(thing("b"))
    await things.insert(thing("c"))
    things.recall("a")
    await things.insert(thing("d"))
    assert [d for d in "abcd" if things.recall(d) is not None] == ["a", "c", "d"]
    assert around.cache.size <= around.cache.max_bytes and around.cache.size > 3 * ENTRY_OVERHEAD
    around.forget_copies()
    assert [d for d in "abcd" if things.recall(d) is not None] == [] and around.cache.size == 0
    assert len(await things.find()) == 4


async def test_writes_made_together_are_all_made_and_what_waits_for_them_is_told_after(store, things):
    await things.insert(thing("a"))
    inbox = store.collection(spec())
    await store.prepare()
    told: list[str] = []
    when_made(lambda: told.append("outside a block: at once"))
    async with store.together():
        await things.set_fields(["a"], {"status": "cleared"})
        when_made(lambda: told.append("made"))
        await inbox.insert_new([thing("m1"), thing("m2")])
        assert told == ["outside a block: at once"]
    assert told == ["outside a block: at once", "made"]
    assert (await things.get("a"))["status"] == "cleared"
    assert set(await inbox.get_many(["m1", "m2"])) == {"m1", "m2"}


async def test_writes_made_together_that_fail_leave_no_copy_and_tell_nobody(cached):
    around, things, _ = cached
    await things.insert(thing("a"))
    told = []
    with pytest.raises(RuntimeError):
        async with around.together():
            await things.set_fields(["a"], {"status": "cleared"})
            when_made(lambda: told.append("made"))
            raise RuntimeError("the block fails after the write was queued")
    assert things.recall("a") is None and told == []
