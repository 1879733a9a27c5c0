"""The unit of work: what one message changes, committed per aggregate in one atomic write.

A handler loads the aggregates it changes through the unit of work, calls one domain method,
and commits. For each changed aggregate, commit writes its new state, the events it recorded
(turned into messages whose ids derive from the handled message's id) and that message's id,
as one document. The consumer publishes after the commit and then clears the outboxes. A
redelivered message finds its id in the aggregate: nothing is changed again, and whatever of
its events is still in the outbox is published again.
"""

from typing import TypeVar

from chassis.aggregate import Aggregate
from chassis.messaging import Outgoing
from chassis.repository import Repository

A = TypeVar("A", bound=Aggregate)


class AlreadyHandled(Exception):
    """The message changed this aggregate before; `pending` is what may still be unpublished."""

    def __init__(self, repository: Repository, aggregate: Aggregate) -> None:
        super().__init__(f"{aggregate.id} was changed by this message already")
        self.repository = repository
        self.aggregate_id = repository.store_id(aggregate)
        self.pending = [Outgoing.from_document(entry) for entry in aggregate.outbox]


class UnitOfWork:
    def __init__(self, context) -> None:
        self.context = context
        self._changing: dict[tuple[int, str], tuple[Repository, Aggregate, int | None]] = {}

    @property
    def message_id(self) -> str:
        return self.context.change_id

    async def get(self, repository: Repository[A], *key: str) -> A | None:
        """Load an aggregate this message is going to change, by the repository's key: its id, or
        (account, id) in an AccountRepository."""
        aggregate = await repository.get(*key)
        return self.attach(repository, aggregate) if aggregate is not None else None

    def attach(self, repository: Repository[A], aggregate: A) -> A:
        """An aggregate loaded otherwise (by a query) that this message is going to change.

        Raises AlreadyHandled when this message changed it before: a redelivery.
        """
        if aggregate.changed_by(self.message_id):
            raise AlreadyHandled(repository, aggregate)
        self._changing[(id(repository), repository.store_id(aggregate))] = (repository, aggregate, aggregate.version)
        return aggregate

    def add(self, repository: Repository[A], aggregate: A) -> A:
        """A new aggregate, inserted at commit (DuplicateDocument when its id is taken)."""
        self._changing[(id(repository), repository.store_id(aggregate))] = (repository, aggregate, None)
        return aggregate

    async def commit(self) -> None:
        changing, self._changing = self._changing, {}
        # The first aggregate a handler loads is the one its redelivery meets first: written last,
        # finding it changed by the message means every other one was written too.
        for repository, aggregate, loaded_version in reversed(changing.values()):
            announce = [self.context.emit(event) for event in aggregate.take_recorded()]
            aggregate.outbox = [*aggregate.outbox, *(message.to_document() for message in announce)]
            aggregate.remember(self.message_id)
            aggregate.version += 1
            if loaded_version is None:
                await repository.insert(aggregate)
            else:
                await repository.update(aggregate, loaded_version)
            self.context.published_by(repository, repository.store_id(aggregate))
