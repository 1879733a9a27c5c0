"""Any store, with every operation counted and timed per collection: what a service asks of its
store shows on /metrics (`invoicing_store_operations_total`, `invoicing_store_operation_seconds`),
and the benchmark replays the same operations against the bare driver to find the raw bound."""

import time
from collections.abc import AsyncIterator, Iterable, Sequence

from prometheus_client import CollectorRegistry, Counter, Histogram

from chassis.storage.base import CollectionSpec, Condition, Document, Documents, Order, Store, StoreAround


class StoreMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.operations = Counter("invoicing_store_operations", "Store operations (round trips), by collection and kind",
                                  ["collection", "operation"], registry=registry)
        self.documents = Counter("invoicing_store_documents_written",
                                 "Documents written by operations that write several at once",
                                 ["collection", "operation"], registry=registry)
        self.seconds = Histogram("invoicing_store_operation_seconds", "Time of one store operation", ["operation"],
                                 registry=registry,
                                 buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1))


class MeasuredDocuments(Documents):
    def __init__(self, inner: Documents, metrics: StoreMetrics) -> None:
        self.inner = inner
        self.spec = inner.spec
        self.metrics = metrics

    async def _timed(self, operation: str, call, written: int = 0):
        started = time.perf_counter()
        try:
            return await call
        finally:
            self.metrics.seconds.labels(operation).observe(time.perf_counter() - started)
            self.metrics.operations.labels(self.spec.name, operation).inc()
            if written:
                self.metrics.documents.labels(self.spec.name, operation).inc(written)

    async def get(self, document_id: str) -> Document | None:
        return await self._timed("get", self.inner.get(document_id))

    async def get_many(self, document_ids: Iterable[str]) -> dict[str, Document]:
        return await self._timed("get_many", self.inner.get_many(document_ids))

    async def insert(self, document: Document) -> None:
        await self._timed("insert", self.inner.insert(document))

    async def insert_new(self, documents: Sequence[Document]) -> None:
        await self._timed("insert_new", self.inner.insert_new(documents), written=len(documents))

    async def update(self, document: Document, expected_version: int) -> None:
        await self._timed("update", self.inner.update(document, expected_version))

    async def set_fields(self, document_ids: Sequence[str], fields: Document) -> None:
        await self._timed("set_fields", self.inner.set_fields(document_ids, fields), written=len(document_ids))

    async def delete(self, document_id: str) -> None:
        await self._timed("delete", self.inner.delete(document_id))

    async def find(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                   limit: int | None = None) -> list[Document]:
        return await self._timed("find", self.inner.find(where, order_by, limit))

    async def stream(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                     fields: Sequence[str] | None = None) -> AsyncIterator[Document]:
        """Counted and timed as one operation, from the first fetch to the last document."""
        started = time.perf_counter()
        try:
            async for document in self.inner.stream(where, order_by, fields):
                yield document
        finally:
            self.metrics.seconds.labels("stream").observe(time.perf_counter() - started)
            self.metrics.operations.labels(self.spec.name, "stream").inc()

    async def count(self, where: Sequence[Condition] = ()) -> int:
        return await self._timed("count", self.inner.count(where))

    async def delete_where(self, where: Sequence[Condition]) -> int:
        return await self._timed("delete_where", self.inner.delete_where(where))


class MeasuredStore(StoreAround):
    def __init__(self, inner: Store, registry: CollectorRegistry) -> None:
        super().__init__(inner)
        self.metrics = StoreMetrics(registry)
        self.collections: dict[str, MeasuredDocuments] = {}

    def collection(self, spec: CollectionSpec) -> MeasuredDocuments:
        if spec.name not in self.collections:
            self.collections[spec.name] = MeasuredDocuments(self.inner.collection(spec), self.metrics)
        return self.collections[spec.name]
