"""Aggregates in a store: one document each, written whole, with its outbox inside.

Ids a client chooses (an invoice id, a mail id) are the client's own, within its account: an
`AccountRepository` stores each aggregate under the key `<account>/<id>` (ids cannot contain
`/`), so two accounts may hold the same id, and a lookup names the account it looks in. Another
account's aggregate is not found, exactly as one that does not exist. The aggregate keeps its own
id; the key is made here, and only here, and the ids that travel between the unit of work, the
outbox relay and the store are these keys.
"""

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
    # Copies of what this service writes are kept for its consumer's unit of work
    # (chassis.storage.cached). False for aggregates the consumer never loads through it (written
    # mostly elsewhere, found by queries): their copies would only take memory.
    cached: bool = True

    def __init__(self, store: Store) -> None:
        spec = CollectionSpec(self.collection_name, keys=(*self.keys, _PENDING),
                              indexes=(*self.indexes, Index((_PENDING.name,))), cached=self.cached)
        self.documents = store.collection(spec)

    def _load(self, document: dict | None) -> A | None:
        return self.model.model_validate(document) if document is not None else None

    def store_id(self, aggregate: A) -> str:
        """The aggregate's key in the store."""
        return aggregate.id

    def key_of(self, *key: str) -> str:
        """The store key of the repository's key (its `get` arguments)."""
        (aggregate_id,) = key
        return aggregate_id

    async def get(self, *key: str) -> A | None:
        return self._load(await self.documents.get(self.key_of(*key)))

    def recall(self, *key: str) -> A | None:
        """The copy of the aggregate this process kept when it last wrote it, if it kept one: for
        the unit of work, which alone may act on it (chassis.unit_of_work, UnitOfWork.get)."""
        return self._load(self.documents.recall(self.key_of(*key)))

    def document(self, aggregate: A) -> dict:
        """What is stored of an aggregate; a repository may add what its reads need beside it."""
        return aggregate.model_dump(mode="json")

    def _stored(self, aggregate: A) -> dict:
        return self.document(aggregate)

    async def insert(self, aggregate: A) -> None:
        await self.documents.insert(self._stored(aggregate))

    async def update(self, aggregate: A, expected_version: int) -> None:
        await self.documents.update(self._stored(aggregate), expected_version)

    async def find(self, where: Sequence[Condition], **options) -> list[A]:
        return [self._load(document) for document in await self.documents.find(where, **options)]

    async def store_again(self, where: Sequence[Condition], batch: int = 500) -> int:
        """Write the matching documents again as this repository writes them now, at the same
        version: for documents stored before a key or a derived field was added (their new key is
        empty), so that queries by it find them. Run before consuming starts (a startup hook)."""
        rewritten: set[str] = set()
        while found := [document for document in await self.documents.find(where, limit=batch)
                        if document["id"] not in rewritten]:
            for document in found:
                aggregate = self._load(document)
                stored = self._stored(aggregate)
                if stored["id"] == document["id"]:  # not one stored under a key of an earlier kind
                    await self.documents.update(stored, aggregate.version)
                rewritten.add(document["id"])
        return len(rewritten)

    async def clear_outboxes(self, store_ids: Sequence[str]) -> None:
        """After publishing: one write for all, by the one writer of these aggregates (by store_id)."""
        await self.documents.set_fields(store_ids, {"outbox": []})

    async def pending(self) -> list[tuple[str, list[Outgoing]]]:
        """Aggregates whose events were committed and maybe not published (a crash came between),
        by store_id."""
        documents = await self.documents.find([Condition(_PENDING.name, "eq", True)])
        return [(document["id"], [Outgoing.from_document(entry) for entry in document["outbox"]])
                for document in documents]


def account_key(account_id: str, aggregate_id: str) -> str:
    """The store key of an id an account chose."""
    return f"{account_id}/{aggregate_id}"


def id_of_key(key: str) -> str:
    """The id in a store key: an id has no `/`, so it is what follows the last one."""
    return key.rsplit("/", 1)[-1]


class AccountRepository(Repository[A]):
    """Aggregates whose ids their account chose: stored under (account, id), found by both.

    The model has an `account_id`. `get(account_id, aggregate_id)` finds only that account's;
    queries by key (`find`) must name the account among their conditions where the ids are
    compared. Documents stored before this key (under the bare id) are not found: they were
    written before ids were per account, and a store started empty has none.
    """

    key = staticmethod(account_key)

    def store_id(self, aggregate: A) -> str:
        return self.key(aggregate.account_id, aggregate.id)

    def key_of(self, *key: str) -> str:
        account_id, aggregate_id = key
        return self.key(account_id, aggregate_id)

    def _stored(self, aggregate: A) -> dict:
        return {**self.document(aggregate), "id": self.store_id(aggregate)}

    def _load(self, document: dict | None) -> A | None:
        if document is None:
            return None
        return self.model.model_validate({**document, "id": id_of_key(document["id"])})
