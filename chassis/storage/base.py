"""The storage interface: what repositories may ask of a store, and nothing more."""

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

KeyType = Literal["text", "integer", "boolean", "timestamp", "date", "text_list"]
Operator = Literal["eq", "lt", "lte", "gt", "gte", "in", "contains_any"]
Document = dict[str, Any]


@dataclass(frozen=True)
class Key:
    """A document field repositories query or sort by. `path` is dotted for nested fields.

    Text keys compare by code point in every store (PostgreSQL runs with the C collation), so a
    key built to sort (a padded number, an ISO date) sorts the same everywhere.

    Each store keeps it next to the document in its typed form (a column, a subdocument field),
    written in the same atomic write, and indexes it where an `Index` names it.
    """

    name: str
    type: KeyType
    path: str = ""

    def value_in(self, document: Document) -> Any:
        value: Any = document
        for part in (self.path or self.name).split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return self.typed(value)

    def typed(self, value: Any) -> Any:
        """JSON-ready documents carry dates as ISO strings; stores compare them as dates."""
        if value is None:
            return None
        if self.type == "timestamp" and isinstance(value, str):
            return datetime.fromisoformat(value)
        if self.type == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        if self.type == "text_list":
            return list(value)
        if self.type == "boolean":
            return bool(value)
        return value


@dataclass(frozen=True)
class Index:
    keys: tuple[str, ...]
    unique: bool = False

    @property
    def name(self) -> str:
        return ("unique_" if self.unique else "by_") + "_".join(self.keys)


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    keys: tuple[Key, ...] = ()
    indexes: tuple[Index, ...] = ()
    # Copies of what this process writes are kept for `Documents.recall` (chassis.storage.cached):
    # the repositories' aggregates.
    cached: bool = False

    def key(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(f"{self.name} declares no key {name!r}; queries use declared keys only")

    def key_values(self, document: Document) -> dict[str, Any]:
        return {key.name: key.value_in(document) for key in self.keys}


@dataclass(frozen=True)
class Condition:
    key: str
    op: Operator
    value: Any


# How many documents a stream fetches per round trip.
STREAM_BATCH = 1000


@dataclass(frozen=True)
class Order:
    key: str
    descending: bool = False


class DuplicateDocument(Exception):
    """The id, or a unique key, is taken."""


class StaleDocument(Exception):
    """The document changed since it was read (its version is not the expected one)."""


class Documents(ABC):
    """One collection of documents. Every method is one round trip to the store."""

    spec: CollectionSpec

    @abstractmethod
    async def get(self, document_id: str) -> Document | None: ...

    def recall(self, document_id: str) -> Document | None:
        """The copy this process kept of what it last wrote of the document, or None; no round
        trip. It may be behind the store, never ahead: for the unit of work only, which checks it
        by the version of its write (chassis.storage.cached). A store that keeps none: None."""
        return None

    def forget(self, document_ids: Iterable[str]) -> None:
        """Drop the copies `recall` would return: found stale, or relied on unconfirmed."""
        return None

    @abstractmethod
    async def get_many(self, document_ids: Iterable[str]) -> dict[str, Document]: ...

    @abstractmethod
    async def insert(self, document: Document) -> None:
        """Raises DuplicateDocument when the id or a unique key is taken."""

    @abstractmethod
    async def insert_new(self, documents: Sequence[Document]) -> None:
        """Insert the documents whose ids are not taken; the others stay as they are."""

    @abstractmethod
    async def update(self, document: Document, expected_version: int) -> None:
        """Replace the document whose version is `expected_version`; raises StaleDocument otherwise."""

    @abstractmethod
    async def set_fields(self, document_ids: Sequence[str], fields: Document) -> None:
        """Set top-level fields of several documents at once, without a version change."""

    @abstractmethod
    async def delete(self, document_id: str) -> None: ...

    @abstractmethod
    async def find(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                   limit: int | None = None) -> list[Document]: ...

    @abstractmethod
    def stream(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
               fields: Sequence[str] | None = None) -> AsyncIterator[Document]:
        """Every matching document in order, fetched in batches as the caller consumes them, so a
        caller that writes each one out (an export) holds a batch at a time, not the result.
        `fields` names the top-level fields to fetch, when the caller needs only those."""

    @abstractmethod
    async def count(self, where: Sequence[Condition] = ()) -> int: ...

    @abstractmethod
    async def delete_where(self, where: Sequence[Condition]) -> int: ...

    def _check(self, where: Sequence[Condition], order_by: Sequence[Order] = ()) -> None:
        for name in [condition.key for condition in where] + [order.key for order in order_by]:
            self.spec.key(name)


class Store(ABC):
    """A service's database."""

    @abstractmethod
    async def open(self) -> None:
        """Connect; fails while the store is unreachable."""

    @abstractmethod
    def collection(self, spec: CollectionSpec) -> Documents:
        """The collection; prepare() creates it with its keys and indexes."""

    @abstractmethod
    async def prepare(self) -> None:
        """Create every collection asked for so far, with its keys and indexes (idempotent)."""

    def forget_copies(self) -> None:
        """Drop every copy `Documents.recall` would return (chassis.storage.cached); none kept: nothing."""
        return None

    @asynccontextmanager
    async def together(self) -> AsyncIterator[None]:
        """The writes made inside go to the store in one round trip where it can (PostgreSQL's
        pipeline mode), failing, if one fails, when the block ends. Only for writes that answer
        nothing the caller reads before the block ends (set_fields, insert_new): no version check,
        no DuplicateDocument to catch inside; what waits for them to be made uses `when_made`."""
        if _made_later.get() is not None:  # within another block: made when that one ends
            yield
            return
        waiting: list[Callable[[], None]] = []
        token = _made_later.set(waiting)
        try:
            async with self._one_round_trip():
                yield
        finally:
            _made_later.reset(token)
        for callback in waiting:
            callback()

    def _one_round_trip(self) -> AbstractAsyncContextManager[None]:
        """How the store sends a `together` block's writes: one by one, unless it can do better."""
        return _one_by_one()

    @abstractmethod
    async def ping(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...


class StoreAround(Store):
    """A store around another, adding to what its collections do (chassis.storage.measured,
    chassis.storage.cached); everything else is the inner store's."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    async def open(self) -> None:
        await self.inner.open()

    async def prepare(self) -> None:
        await self.inner.prepare()

    async def ping(self) -> None:
        await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()

    def _one_round_trip(self) -> AbstractAsyncContextManager[None]:
        return self.inner._one_round_trip()

    def forget_copies(self) -> None:
        self.inner.forget_copies()


# The callbacks waiting for the writes of the Store.together block this task is in.
_made_later: ContextVar[list[Callable[[], None]] | None] = ContextVar("made_later", default=None)


def when_made(callback: Callable[[], None]) -> None:
    """Call `callback` once the writes awaited so far are in the store: at once, or, within a
    `Store.together` block, when the block ends without failing (for a reader in this process
    that waits for them)."""
    waiting = _made_later.get()
    if waiting is None:
        callback()
    else:
        waiting.append(callback)


@asynccontextmanager
async def _one_by_one() -> AsyncIterator[None]:
    yield


def open_store(url: str, database: str, *, pool_size: int = 10) -> Store:
    """The store a URL names: postgresql://... or mongodb://...; `database` is the service's own."""
    if url.startswith(("postgresql://", "postgres://")):
        from chassis.storage.postgres import PostgresStore

        return PostgresStore(url=url, database=database, pool_size=pool_size)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from chassis.storage.mongo import MongoStore

        return MongoStore(url=url, database=database, pool_size=pool_size)
    raise ValueError(f"no storage adapter for {url.split(':', 1)[0]!r} URLs (use postgresql:// or mongodb://)")
