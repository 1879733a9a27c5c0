"""Aggregates in a store: one document each, written whole, with its outbox inside."""

from collections.abc import Sequence
from typing import Generic, TypeVar

from chassis.aggregate import Aggregate
from chassis.messaging import Outgoing
from chassis.storage import CollectionSpec, Condition, Index, Key, Store

A = TypeVar("A", bound=Aggregate)

# Every aggregate collection can list the documents whose outbox is not empty, by index.
_PENDING = Key("pending_outbox", "boolean", path="outbox")


class Repository(Generic[A]):
    """Subclasses name their collection, their model, and the keys and indexes their queries use."""

    model: type[A]
    collection_name: str
    keys: tuple[Key, ...] = ()
    indexes: tuple[Index, ...] = ()

    def __init__(self, store: Store) -> None:
        spec = CollectionSpec(self.collection_name, keys=(*self.keys, _PENDING),
                              indexes=(*self.indexes, Index((_PENDING.name,))))
        self.documents = store.collection(spec)

    def _load(self, document: dict | None) -> A | None:
        return self.model.model_validate(document) if document is not None else None

    async def get(self, aggregate_id: str) -> A | None:
        return self._load(await self.documents.get(aggregate_id))

    def document(self, aggregate: A) -> dict:
        """What is stored of an aggregate; a repository may add what its reads need beside it."""
        return aggregate.model_dump(mode="json")

    async def insert(self, aggregate: A) -> None:
        await self.documents.insert(self.document(aggregate))

    async def update(self, aggregate: A, expected_version: int) -> None:
        await self.documents.update(self.document(aggregate), expected_version)

    async def find(self, where: Sequence[Condition], **options) -> list[A]:
        return [self.model.model_validate(document) for document in await self.documents.find(where, **options)]

    async def store_again(self, where: Sequence[Condition], batch: int = 500) -> int:
        """Write the matching documents again as this repository writes them now, at the same
        version: for documents stored before a key or a derived field was added (their new key is
        empty), so that queries by it find them. Run before consuming starts (a startup hook)."""
        rewritten: set[str] = set()
        while found := [document for document in await self.documents.find(where, limit=batch)
                        if document["id"] not in rewritten]:
            for document in found:
                aggregate = self.model.model_validate(document)
                await self.documents.update(self.document(aggregate), aggregate.version)
                rewritten.add(aggregate.id)
        return len(rewritten)

    async def clear_outboxes(self, aggregate_ids: Sequence[str]) -> None:
        """After publishing: one write for all, by the one writer of these aggregates."""
        await self.documents.set_fields(aggregate_ids, {"outbox": []})

    async def pending(self) -> list[tuple[str, list[Outgoing]]]:
        """Aggregates whose events were committed and maybe not published (a crash came between)."""
        documents = await self.documents.find([Condition(_PENDING.name, "eq", True)])
        return [(document["id"], [Outgoing.from_document(entry) for entry in document["outbox"]])
                for document in documents]
