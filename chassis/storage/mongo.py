"""MongoDB adapter (PyMongo's async API): `{_id, version, doc, k: {<key>: typed value}}` per document.

The document is stored as given, its declared keys beside it in `k` in their typed form (BSON
dates, not ISO strings), written in the same single-document write and indexed there.

FerretDB 1.24 speaks this protocol too, and the contract tests run against it for the queries'
sake; it uses no index and does not apply concurrent updates atomically, so it is no production
store for this platform (real MongoDB in docker-compose.yml is).
"""

from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

from chassis.storage.base import (
    STREAM_BATCH,
    CollectionSpec,
    Condition,
    Document,
    Documents,
    DuplicateDocument,
    Order,
    StaleDocument,
    Store,
)


def _bson(value: Any) -> Any:
    """BSON has no date without a time: a date key is stored as that day's midnight UTC."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, list):
        return [_bson(item) for item in value]
    return value


_OPERATORS = {"eq": "$eq", "lt": "$lt", "lte": "$lte", "gt": "$gt", "gte": "$gte", "in": "$in", "contains_any": "$in"}


class MongoDocuments(Documents):
    def __init__(self, database, spec: CollectionSpec) -> None:
        self.collection = database[spec.name]
        self.spec = spec

    def _stored(self, document: Document) -> Document:
        return {"_id": document["id"], "version": document["version"], "doc": document,
                "k": {name: _bson(value) for name, value in self.spec.key_values(document).items()}}

    async def get(self, document_id: str) -> Document | None:
        stored = await self.collection.find_one({"_id": document_id}, projection={"doc": 1})
        return stored["doc"] if stored else None

    async def get_many(self, document_ids: Iterable[str]) -> dict[str, Document]:
        cursor = self.collection.find({"_id": {"$in": list(document_ids)}}, projection={"doc": 1})
        return {stored["_id"]: stored["doc"] async for stored in cursor}

    async def insert(self, document: Document) -> None:
        try:
            await self.collection.insert_one(self._stored(document))
        except DuplicateKeyError as error:
            raise DuplicateDocument(str(error.details.get("keyPattern") if error.details else "id")) from error

    async def insert_new(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        try:
            await self.collection.insert_many([self._stored(document) for document in documents], ordered=False)
        except BulkWriteError as error:
            if any(failure.get("code") != 11000 for failure in error.details.get("writeErrors", [])):
                raise

    async def update(self, document: Document, expected_version: int) -> None:
        try:
            result = await self.collection.replace_one({"_id": document["id"], "version": expected_version},
                                                       self._stored(document))
        except DuplicateKeyError as error:
            raise DuplicateDocument(str(error.details.get("keyPattern") if error.details else "key")) from error
        if result.matched_count != 1:
            raise StaleDocument(f"{self.spec.name}/{document['id']} is not at version {expected_version}")

    async def set_fields(self, document_ids: Sequence[str], fields: Document) -> None:
        if not document_ids:
            return
        changes = {f"doc.{name}": value for name, value in fields.items()}
        changes |= {f"k.{key.name}": _bson(key.typed(fields[key.path or key.name]))
                    for key in self.spec.keys if (key.path or key.name) in fields}
        await self.collection.update_many({"_id": {"$in": list(document_ids)}}, {"$set": changes})

    async def delete(self, document_id: str) -> None:
        await self.collection.delete_one({"_id": document_id})

    def _filter(self, where: Sequence[Condition]) -> Document:
        query: Document = {}
        for condition in where:
            key = self.spec.key(condition.key)
            value: Any = (
                [key.typed(v) for v in condition.value] if condition.op == "in"
                else list(condition.value) if condition.op == "contains_any"
                else key.typed(condition.value)
            )
            query.setdefault(f"k.{key.name}", {})[_OPERATORS[condition.op]] = _bson(value)
        return query

    def _sort(self, order_by: Sequence[Order]) -> list | None:
        return [(f"k.{order.key}", DESCENDING if order.descending else ASCENDING) for order in order_by] or None

    async def find(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                   limit: int | None = None) -> list[Document]:
        self._check(where, order_by)
        cursor = self.collection.find(self._filter(where), projection={"doc": 1}, sort=self._sort(order_by),
                                      limit=limit or 0)
        return [stored["doc"] async for stored in cursor]

    async def stream(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                     fields: Sequence[str] | None = None) -> AsyncIterator[Document]:
        self._check(where, order_by)
        projection = {"doc": 1} if fields is None else {f"doc.{field}": 1 for field in fields}
        cursor = self.collection.find(self._filter(where), projection=projection, sort=self._sort(order_by),
                                      batch_size=STREAM_BATCH)
        async for stored in cursor:
            yield stored["doc"]

    async def count(self, where: Sequence[Condition] = ()) -> int:
        self._check(where)
        return await self.collection.count_documents(self._filter(where))

    async def delete_where(self, where: Sequence[Condition]) -> int:
        self._check(where)
        return (await self.collection.delete_many(self._filter(where))).deleted_count

    async def prepare(self) -> None:
        for index in self.spec.indexes:
            await self.collection.create_index([(f"k.{name}", ASCENDING) for name in index.keys],
                                               name=index.name, unique=index.unique)


class MongoStore(Store):
    def __init__(self, *, url: str, database: str, pool_size: int) -> None:
        self.client = AsyncMongoClient(url, tz_aware=True, serverSelectionTimeoutMS=5000, maxPoolSize=pool_size)
        self.database = self.client[database]
        self.collections: dict[str, MongoDocuments] = {}

    async def open(self) -> None:
        await self.ping()

    def collection(self, spec: CollectionSpec) -> MongoDocuments:
        return self.collections.setdefault(spec.name, MongoDocuments(self.database, spec))

    async def prepare(self) -> None:
        for collection in self.collections.values():
            await collection.prepare()

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()
