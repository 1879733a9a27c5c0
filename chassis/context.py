"""What a handler sees of the message it handles, and where it puts what it causes."""

import logging
from collections.abc import Awaitable, Callable

from chassis.messaging import Outgoing
from chassis.repository import Repository
from chassis.unit_of_work import UnitOfWork
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.common import CommandRejected

_logger = logging.getLogger(__name__)


class HandlerContext:
    """One message's handling: its envelope and data, its unit of work, what it emits."""

    def __init__(self, envelope: Envelope, data: MessageData | None, source: str,
                 rejection: type[CommandRejected], *, change_id: str | None = None, first_index: int = 0,
                 recall: bool = False) -> None:
        self.envelope = envelope
        self.data = data
        self.source = source
        self._rejection = rejection
        # Outside a consumer (a timer, a delivery loop) a change follows from an earlier message
        # without being it: it names itself for the unit of work, and its events take causation
        # indexes of their own in that message's flow.
        self.change_id = change_id or str(envelope.id)
        self.first_index = first_index
        self.emitted: list[Outgoing] = []
        self._outboxes: dict[int, tuple[Repository, list[str]]] = {}
        # Only a consumer's handlers take aggregates from the cache (chassis.unit_of_work); a
        # timer or a delivery loop reads the store.
        self.uow = UnitOfWork(self, recall=recall)

    @property
    def account_id(self) -> str:
        return self.envelope.accountid

    def emit(self, data: MessageData) -> Outgoing:
        message = Outgoing(
            self.envelope.caused(
                source=self.source, type=data.type_name, subject=data.aggregate_id(),
                index=self.first_index + len(self.emitted),
            ),
            data,
        )
        self.emitted.append(message)
        return message

    def rejection(self, reason: str, message: str) -> Outgoing:
        """Answer the command with this service's rejection event, keyed like the command's aggregate."""
        key = self._rejection.key_field
        # A rejection also repeats what else of the command it declares (numbering's names the
        # credit note beside the invoice), so the answer finds what asked.
        named = {name: value for name in self._rejection.model_fields.keys() - CommandRejected.model_fields.keys() - {key}
                 if (value := getattr(self.data, name, None)) is not None}
        return self.emit(
            self._rejection(
                command_id=str(self.envelope.id),
                command_type=self.envelope.type,
                reason=reason,
                message=message,
                **named,
                **{key: getattr(self.data, key, None) or self.envelope.subject},
            )
        )

    def republish(self, repository: Repository, pending: list[Outgoing], store_id: str) -> None:
        """Publish again what an aggregate this message changed before may not have published."""
        self.emitted.extend(pending)
        self.published_by(repository, store_id)

    def published_by(self, repository: Repository, store_id: str) -> None:
        """Once the emitted messages are on Kafka, clear the outbox of this aggregate (by its key in
        the store, Repository.store_id)."""
        self._outboxes.setdefault(id(repository), (repository, []))[1].append(store_id)

    async def published(self) -> None:
        """Everything emitted is on Kafka: clear the outboxes."""
        await clear_outboxes([self])


async def run_handler(handler: Callable[[HandlerContext, MessageData], Awaitable[None]], data: MessageData,
                      new_context: Callable[[bool], HandlerContext]) -> HandlerContext:
    """Run a consumer's handler with cached copies allowed (`new_context(True)`). When it ends,
    returning or raising, with a copy no write of it confirmed and the copy was behind the store
    (chassis.unit_of_work), run it again at once from the store, with what that run raises: no
    retry (nothing failed but a copy), and nothing of the first run is kept but what a failed
    run leaves (what it wrote, as a retry finds it; what it counted)."""
    context = new_context(True)
    try:
        await handler(context, data)
    except Exception:
        if not await context.uow.behind():
            raise
    else:
        if not await context.uow.behind():
            return context
    # Another writer came between (a second instance, a delivery loop): worth seeing when frequent.
    _logger.info("a cached copy was behind the store; handled again from the store")
    context = new_context(False)
    await handler(context, data)
    return context


async def clear_outboxes(contexts: list[HandlerContext]) -> None:
    """One write per repository for all the aggregates whose events the contexts published."""
    by_repository: dict[int, tuple[Repository, list[str]]] = {}
    for context in contexts:
        for repository, aggregate_ids in context._outboxes.values():
            by_repository.setdefault(id(repository), (repository, []))[1].extend(aggregate_ids)
    for repository, aggregate_ids in by_repository.values():
        await repository.clear_outboxes(sorted(set(aggregate_ids)))
