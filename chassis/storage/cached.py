"""Any store, with a bounded copy of the documents this process wrote to its cached collections.

Kafka gives each record key one consumer of its group, so the consumer that handles an aggregate's
messages is, as a rule, the one that wrote it last: it can take the aggregate from memory instead
of reading it before it writes it again. Only collections declared `cached` (the repositories'
aggregates) are kept, and only what a write of this process put there (write-through): a read
fills nothing, so a copy is never of something another process wrote after it.

A copy can still be behind the store: another process (a second instance, another instance's
delivery loop) may have written the document since. The copies are therefore never trusted
alone: `recall` is for the unit of work, whose version-checked write finds a stale copy out, and
which runs a handler again from the store when a copy decided something no write of it confirmed
(chassis.unit_of_work). What the cache guarantees is that it is never *ahead* of the store: a
copy is recorded only once its write has succeeded, and a write that fails in any way (stale,
duplicate, the store away, the process interrupted) drops the copy, whatever the store kept.

Copies are kept as JSON bytes and parsed on every recall, so no caller shares a mutable object
with the cache or with another caller. The bound is the bytes kept (AGGREGATE_CACHE_MIB); the
least recently used copies go first.
"""

from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge

from chassis.storage.base import CollectionSpec, Condition, Document, Documents, Order, Store, StoreAround

# What a kept copy costs besides its bytes (the entry, its key, the bytes object): counted in
# the bound, so many small documents cannot take much more memory than it says.
ENTRY_OVERHEAD = 200


@dataclass
class _Copy:
    version: int
    document: bytes
    # Fields set without a version change (chassis.repository clear_outboxes), laid over the
    # document at recall rather than written into it: a batch clears outboxes of every
    # aggregate it wrote, and re-encoding each whole document for that would cost more.
    fields: bytes = b""

    @property
    def size(self) -> int:
        return len(self.document) + len(self.fields) + ENTRY_OVERHEAD


def _exact(encoded: bytes) -> bytes:
    """A copy of `encoded` in a block of its own size. orjson's bytes sit in the larger block it
    wrote them into; kept for long among short-lived ones, such blocks fragmented the heap so much
    that 8 MiB of copies held some 80 MiB of resident memory (5 KB documents)."""
    return bytes(memoryview(encoded))


class DocumentCache:
    """The copies of one service, across its cached collections, within `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._copies: OrderedDict[tuple[str, str], _Copy] = OrderedDict()

    def __len__(self) -> int:
        return len(self._copies)

    def recall(self, collection: str, document_id: str) -> Document | None:
        copy = self._copies.get((collection, document_id))
        if copy is None:
            return None
        self._copies.move_to_end((collection, document_id))
        document = orjson.loads(copy.document)
        if copy.fields:
            document.update(orjson.loads(copy.fields))
        return document

    def record(self, collection: str, document: Document) -> None:
        """A write of `document` succeeded. A copy of a later version stays (two writers of this
        process finishing out of order)."""
        key = (collection, document["id"])
        kept = self._copies.get(key)
        if kept is not None and kept.version > document["version"]:
            return
        self._put(key, _Copy(document["version"], _exact(orjson.dumps(document))))

    def set_fields(self, collection: str, document_ids: Iterable[str], fields: Document) -> None:
        for document_id in document_ids:
            key = (collection, document_id)
            if (kept := self._copies.get(key)) is not None:
                laid = {**orjson.loads(kept.fields), **fields} if kept.fields else fields
                self._put(key, _Copy(kept.version, kept.document, _exact(orjson.dumps(laid))))

    def drop(self, collection: str, document_ids: Iterable[str]) -> None:
        for document_id in document_ids:
            if (kept := self._copies.pop((collection, document_id), None)) is not None:
                self.size -= kept.size

    def drop_collection(self, collection: str) -> None:
        self.drop(collection, [document_id for name, document_id in self._copies if name == collection])

    def clear(self) -> None:
        """Forget every copy: the partitions they were written for may be another consumer's now."""
        self._copies.clear()
        self.size = 0

    def _put(self, key: tuple[str, str], copy: _Copy) -> None:
        if (kept := self._copies.pop(key, None)) is not None:
            self.size -= kept.size
        if copy.size > self.max_bytes:
            return
        self._copies[key] = copy
        self.size += copy.size
        while self.size > self.max_bytes:
            _, evicted = self._copies.popitem(last=False)
            self.size -= evicted.size


class CachedDocuments(Documents):
    """A cached collection: every call goes to the store; writes also keep or drop the copy."""

    def __init__(self, inner: Documents, cache: DocumentCache, recalls: Counter | None) -> None:
        self.inner = inner
        self.spec = inner.spec
        self.cache = cache
        self.name = inner.spec.name
        self._hit, self._miss = (recalls.labels(self.name, outcome) if recalls else None for outcome in ("hit", "miss"))

    def recall(self, document_id: str) -> Document | None:
        document = self.cache.recall(self.name, document_id)
        if self._hit is not None:
            (self._hit if document is not None else self._miss).inc()
        return document

    def forget(self, document_ids: Iterable[str]) -> None:
        self.cache.drop(self.name, document_ids)

    async def _write(self, call, document_ids: Iterable[str]):
        try:
            return await call
        except BaseException:
            # Whatever the store kept of a failed write (a connection lost after the commit
            # included), no copy may claim it.
            self.cache.drop(self.name, document_ids)
            raise

    async def get(self, document_id: str) -> Document | None:
        return await self.inner.get(document_id)

    async def get_many(self, document_ids: Iterable[str]) -> dict[str, Document]:
        return await self.inner.get_many(document_ids)

    async def insert(self, document: Document) -> None:
        await self._write(self.inner.insert(document), [document["id"]])
        self.cache.record(self.name, document)

    async def insert_new(self, documents: Sequence[Document]) -> None:
        # Which of them were taken already is not told: none is kept.
        ids = [document["id"] for document in documents]
        self.cache.drop(self.name, ids)
        await self.inner.insert_new(documents)

    async def update(self, document: Document, expected_version: int) -> None:
        await self._write(self.inner.update(document, expected_version), [document["id"]])
        self.cache.record(self.name, document)

    async def set_fields(self, document_ids: Sequence[str], fields: Document) -> None:
        await self._write(self.inner.set_fields(document_ids, fields), document_ids)
        self.cache.set_fields(self.name, document_ids, fields)

    async def delete(self, document_id: str) -> None:
        self.cache.drop(self.name, [document_id])
        await self.inner.delete(document_id)

    async def find(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                   limit: int | None = None) -> list[Document]:
        return await self.inner.find(where, order_by, limit)

    def stream(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
               fields: Sequence[str] | None = None) -> AsyncIterator[Document]:
        return self.inner.stream(where, order_by, fields)

    async def count(self, where: Sequence[Condition] = ()) -> int:
        return await self.inner.count(where)

    async def delete_where(self, where: Sequence[Condition]) -> int:
        self.cache.drop_collection(self.name)
        return await self.inner.delete_where(where)


class CachedStore(StoreAround):
    """A store whose `cached` collections keep copies in one DocumentCache (`max_bytes` 0: none),
    shown on `registry` when given: `invoicing_aggregate_cache_recalls_total{collection,outcome}`
    (hit: a read saved; miss: read from the store) and `invoicing_aggregate_cache_bytes`."""

    def __init__(self, inner: Store, max_bytes: int, registry: CollectorRegistry | None = None) -> None:
        super().__init__(inner)
        self.cache = DocumentCache(max_bytes)
        self.collections: dict[str, Documents] = {}
        self.recalls = None
        if registry is not None:
            self.recalls = Counter("invoicing_aggregate_cache_recalls", "Aggregates a handler asked of the cache",
                                   ["collection", "outcome"], registry=registry)
            Gauge("invoicing_aggregate_cache_bytes", "What the cached copies take, within AGGREGATE_CACHE_MIB",
                  registry=registry).set_function(lambda: self.cache.size)

    def collection(self, spec: CollectionSpec) -> Documents:
        if spec.name not in self.collections:
            inner = self.inner.collection(spec)
            cached = spec.cached and self.cache.max_bytes > 0
            self.collections[spec.name] = CachedDocuments(inner, self.cache, self.recalls) if cached else inner
        return self.collections[spec.name]

    @asynccontextmanager
    async def _one_round_trip(self) -> AsyncIterator[None]:
        try:
            async with self.inner._one_round_trip():
                yield
        except BaseException:
            # The block's writes were taken as made when queued, and fail only now: the copies
            # they changed are unknown here, so none is kept (a store error: rare).
            self.cache.clear()
            raise

    def forget_copies(self) -> None:
        self.cache.clear()
