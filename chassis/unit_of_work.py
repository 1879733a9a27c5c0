"""The unit of work: what one message changes, committed per aggregate, each in one atomic write.

A handler loads the aggregates it changes through the unit of work, calls one domain method,
and commits. For each changed aggregate, commit writes its new state, the events it recorded
(turned into messages whose ids derive from the handled message's id) and that message's id,
as one document. The consumer publishes after the commit and then clears the outboxes.

The rule for a redelivered message: an aggregate it changed before is left as it is, whatever of
its events is still in the outbox is published again, and the others are still written. One
aggregate finds this by itself (`get` raises AlreadyHandled). A change of several aggregates is
several writes, and a crash may come between two of them, so their order is the handler's to
name (`commit`), never the order they happened to be loaded in.

The rule for a cached copy: in a consumer, `get` and `get_part` take the aggregate from the copy
the service kept when it last wrote it (chassis.storage.cached) instead of reading the store.
The copy is never ahead of the store but may be behind it (another writer: another instance,
another instance's delivery loop), so it may decide nothing that a version-checked write of it
does not confirm. The first aggregate a commit writes is checked by that write; every other
copy recalled is read again before it (a part written first, or a part only read, may not rest on
a stale copy). When a run ends with a recalled copy unconfirmed (a refusal, a redelivery found,
a failure, a stale write), the copy is read again too. If one was behind, the run counts for
nothing and the handler runs again at once, from the store (chassis.context.run_handler); else
the run stands. An aggregate loaded only to decide, without
the unit of work (`repository.get`), is always read from the store: nothing would check a copy.
"""

from dataclasses import dataclass
from typing import TypeVar

from chassis.aggregate import Aggregate
from chassis.messaging import Outgoing
from chassis.repository import Repository
from chassis.storage import StaleDocument

A = TypeVar("A", bound=Aggregate)


class AlreadyHandled(Exception):
    """The message changed this aggregate before; `pending` is what may still be unpublished."""

    def __init__(self, repository: Repository, aggregate: Aggregate) -> None:
        super().__init__(f"{aggregate.id} was changed by this message already")
        self.repository = repository
        self.aggregate_id = repository.store_id(aggregate)
        self.pending = [Outgoing.from_document(entry) for entry in aggregate.outbox]


@dataclass
class _Joined:
    repository: Repository
    aggregate: Aggregate
    loaded_version: int | None  # None: new, inserted
    read_only: bool  # a part loaded to decide: written only when the order names it
    kept: bool  # a part this message changed before, left as it is


class UnitOfWork:
    def __init__(self, context, *, recall: bool = False) -> None:
        self.context = context
        self.recall = recall
        self._joined: dict[int, _Joined] = {}
        # The copies recalled and not yet confirmed by a write: (repository, version) by
        # (repository, store id).
        self._recalled: dict[tuple[int, str], tuple[Repository, int]] = {}

    async def behind(self) -> bool:
        """Whether a copy recalled and not confirmed was behind the store (see the module's rule):
        each is read again, and one that was behind is dropped from the cache."""
        try:
            await self._confirm(list(self._recalled))
        except StaleDocument:
            return True
        return False

    async def _confirm(self, keys: list[tuple[int, str]]) -> None:
        """Read these recalled copies again: confirmed when the store holds their version, else
        dropped from the cache (StaleDocument)."""
        behind = []
        for key in keys:
            repository, version = self._recalled[key]
            stored = await repository.documents.get(key[1])
            if stored is None or stored["version"] != version:
                repository.documents.forget([key[1]])
                behind.append(key[1])
            else:
                del self._recalled[key]
        if behind:
            raise StaleDocument(f"recalled copies behind the store: {', '.join(behind)}")

    async def _load(self, repository: Repository[A], key: tuple[str, ...]) -> A | None:
        if self.recall and (aggregate := repository.recall(*key)) is not None:
            self._recalled[id(repository), repository.key_of(*key)] = (repository, aggregate.version)
            return aggregate
        return await repository.get(*key)

    @property
    def message_id(self) -> str:
        return self.context.change_id

    async def get(self, repository: Repository[A], *key: str) -> A | None:
        """Load an aggregate this message is going to change, by the repository's key: its id, or
        (account, id) in an AccountRepository.

        Raises AlreadyHandled when this message changed it before: a redelivery, which the consumer
        answers by publishing again what the aggregate announced. With several aggregates, that
        is true only of one written after every other (see commit).

        In a consumer, the aggregate may be the copy kept when this service last wrote it (see
        the module's rule for a cached copy).
        """
        aggregate = await self._load(repository, key)
        return self.attach(repository, aggregate) if aggregate is not None else None

    def attach(self, repository: Repository[A], aggregate: A) -> A:
        """An aggregate loaded otherwise (by a query) that this message is going to change.

        Raises AlreadyHandled when this message changed it before: a redelivery.
        """
        if aggregate.changed_by(self.message_id):
            raise AlreadyHandled(repository, aggregate)
        return self._join(repository, aggregate, aggregate.version)

    async def get_part(self, repository: Repository[A], *key: str) -> A | None:
        """Load one of several aggregates this message changes, written before the one that tells
        a redelivery (see commit). One this message changed before (a crash came before the
        last write) is returned as it is stored and stays so: whatever the handler does to it is
        not written, and what it announced is published again. A copy may be recalled, as by `get`."""
        aggregate = await self._load(repository, key)
        if aggregate is None:
            return None
        return self._join(repository, aggregate, aggregate.version, part=True,
                          kept=aggregate.changed_by(self.message_id))

    def add(self, repository: Repository[A], aggregate: A) -> A:
        """A new aggregate, inserted at commit (DuplicateDocument when its id is taken)."""
        return self._join(repository, aggregate, None)

    def _join(self, repository: Repository[A], aggregate: A, loaded_version: int | None, *, part: bool = False,
              kept: bool = False) -> A:
        self._joined[id(aggregate)] = _Joined(repository, aggregate, loaded_version, part, kept)
        return aggregate

    async def commit(self, *order: Aggregate) -> None:
        """Write the aggregates named, first to last: the write order of a change of several
        aggregates, each its own write.

        A redelivery meets the aggregates in the handler's load order and must find out what the
        first delivery wrote. So the parts (loaded with `get_part`, or new) are written first and
        the aggregate a redelivery reads with `get` (or `attach`) last: finding that one changed
        means every part was written too, and a part found changed is kept as it is while the
        others are written. The aggregate written last carries the change's announcements, so a
        redelivery that stops at it publishes them again. A part loaded only to decide is left
        out of the order and not written. Raises ValueError (a handler's mistake) when a change of
        several aggregates names no order, or the order names an aggregate twice or one that did
        not join, or leaves out one loaded with `get`, `attach` or `add`, or a part that recorded
        events.

        One aggregate needs no order: `commit()`.

        Before the first write, every recalled copy but the first written aggregate's (whose own
        write checks it) is read again: a part written, or an event announced, may not rest on a
        copy that is behind; StaleDocument then, and nothing is written.
        """
        joined, self._joined = self._joined, {}
        in_order = self._in_order(joined, order)
        first = next((w for w in in_order if not w.kept), None)
        checked_by_its_write = (id(first.repository), first.repository.store_id(first.aggregate)) if first else None
        await self._confirm([key for key in self._recalled if key != checked_by_its_write])
        for written in in_order:
            if written.kept:
                written.aggregate.take_recorded()
                self.context.republish(written.repository,
                                       [Outgoing.from_document(entry) for entry in written.aggregate.outbox],
                                       written.repository.store_id(written.aggregate))
                continue
            repository, aggregate = written.repository, written.aggregate
            announce = [self.context.emit(event) for event in aggregate.take_recorded()]
            aggregate.outbox = [*aggregate.outbox, *(message.to_document() for message in announce)]
            aggregate.remember(self.message_id)
            aggregate.version += 1
            if written.loaded_version is None:
                await repository.insert(aggregate)
            else:
                await repository.update(aggregate, written.loaded_version)
            store_id = repository.store_id(aggregate)
            self._recalled.pop((id(repository), store_id), None)
            self.context.published_by(repository, store_id)

    @staticmethod
    def _in_order(joined: dict[int, _Joined], order: tuple[Aggregate, ...]) -> list[_Joined]:
        if not order:
            if len(joined) > 1:
                raise ValueError("A change of several aggregates names the order they are written in.")
            return list(joined.values())
        if len({id(aggregate) for aggregate in order}) != len(order) or any(id(a) not in joined for a in order):
            raise ValueError("The order names each aggregate of the unit of work once.")
        named = [joined[id(aggregate)] for aggregate in order]
        unnamed = [w for key, w in joined.items() if key not in {id(a) for a in order}]
        if any(not w.read_only or w.aggregate.take_recorded() for w in unnamed):
            raise ValueError("The order leaves out an aggregate that is changed.")
        # A kept part is published again even when only read: what it announced may be pending.
        return [*(w for w in unnamed if w.kept), *named]
