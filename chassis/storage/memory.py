"""An in-memory store for fast unit tests of handlers and repositories; never a production store.

It follows the interface's contract (tests/storage runs the same suite against it and the real
adapters), so a handler tested with it behaves the same on PostgreSQL and MongoDB.
"""

import copy
import json
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

from chassis.storage.base import (
    CollectionSpec,
    Condition,
    Document,
    Documents,
    DuplicateDocument,
    Order,
    StaleDocument,
    Store,
)

_COMPARE = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a is not None and a < b,
    "lte": lambda a, b: a is not None and a <= b,
    "gt": lambda a, b: a is not None and a > b,
    "gte": lambda a, b: a is not None and a >= b,
    "in": lambda a, b: a in b,
    "contains_any": lambda a, b: bool(set(a or ()) & set(b)),
}


class MemoryDocuments(Documents):
    def __init__(self, spec: CollectionSpec) -> None:
        self.spec = spec
        self.rows: dict[str, Document] = {}

    @staticmethod
    def _copy(document: Document) -> Document:
        # What a real store returns: a JSON round trip, never the caller's own object.
        return json.loads(json.dumps(document))

    def _unique_clash(self, document: Document) -> str | None:
        for index in self.spec.indexes:
            if not index.unique:
                continue
            values = [self.spec.key(name).value_in(document) for name in index.keys]
            for other in self.rows.values():
                if other["id"] != document["id"] and [self.spec.key(n).value_in(other) for n in index.keys] == values:
                    return index.name
        return None

    async def get(self, document_id: str) -> Document | None:
        found = self.rows.get(document_id)
        return copy.deepcopy(found) if found is not None else None

    async def get_many(self, document_ids: Iterable[str]) -> dict[str, Document]:
        return {i: copy.deepcopy(self.rows[i]) for i in document_ids if i in self.rows}

    async def insert(self, document: Document) -> None:
        if document["id"] in self.rows:
            raise DuplicateDocument("id")
        if clash := self._unique_clash(document):
            raise DuplicateDocument(clash)
        self.rows[document["id"]] = self._copy(document)

    async def insert_new(self, documents: Sequence[Document]) -> None:
        for document in documents:
            if document["id"] not in self.rows:
                await self.insert(document)

    async def update(self, document: Document, expected_version: int) -> None:
        current = self.rows.get(document["id"])
        if current is None or current["version"] != expected_version:
            raise StaleDocument(f"{self.spec.name}/{document['id']} is not at version {expected_version}")
        if clash := self._unique_clash(document):
            raise DuplicateDocument(clash)
        self.rows[document["id"]] = self._copy(document)

    async def set_fields(self, document_ids: Sequence[str], fields: Document) -> None:
        for document_id in document_ids:
            if document_id in self.rows:
                self.rows[document_id].update(self._copy(fields))

    async def delete(self, document_id: str) -> None:
        self.rows.pop(document_id, None)

    def _matching(self, where: Sequence[Condition]) -> list[Document]:
        self._check(where)
        matching = []
        for document in self.rows.values():
            for condition in where:
                key = self.spec.key(condition.key)
                wanted: Any = (
                    [key.typed(v) for v in condition.value] if condition.op == "in"
                    else condition.value if condition.op == "contains_any"
                    else key.typed(condition.value)
                )
                if not _COMPARE[condition.op](key.value_in(document), wanted):
                    break
            else:
                matching.append(document)
        return matching

    async def find(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                   limit: int | None = None) -> list[Document]:
        self._check(where, order_by)
        found = self._matching(where)
        for order in reversed(order_by):
            key = self.spec.key(order.key)
            # Both real stores put missing values first ascending (MongoDB) or last (PostgreSQL);
            # the contract leaves it open, so here they go first.
            found.sort(key=lambda d, k=key: (k.value_in(d) is not None, k.value_in(d)), reverse=order.descending)
        return [copy.deepcopy(document) for document in found[:limit]]

    async def stream(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                     fields: Sequence[str] | None = None) -> AsyncIterator[Document]:
        for document in await self.find(where, order_by):
            yield document if fields is None else {field: document[field] for field in fields if field in document}

    async def count(self, where: Sequence[Condition] = ()) -> int:
        return len(self._matching(where))

    async def delete_where(self, where: Sequence[Condition]) -> int:
        doomed = [document["id"] for document in self._matching(where)]
        for document_id in doomed:
            del self.rows[document_id]
        return len(doomed)


class MemoryStore(Store):
    def __init__(self) -> None:
        self.collections: dict[str, MemoryDocuments] = {}

    async def open(self) -> None:
        pass

    def collection(self, spec: CollectionSpec) -> MemoryDocuments:
        return self.collections.setdefault(spec.name, MemoryDocuments(spec))

    async def prepare(self) -> None:
        pass

    async def ping(self) -> None:
        pass

    async def close(self) -> None:
        pass
