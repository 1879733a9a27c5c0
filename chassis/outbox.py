"""Events stored in the same document update as the state change that caused them.

MongoDB-wire stores here have no multi-document transactions, but a single-document update is
atomic. So an aggregate keeps its not-yet-published events in an `outbox` field written together
with the new state: a crash after the write and before the publish loses nothing, because the
relay publishes whatever is left in any outbox when the service starts.
"""

import logging
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from chassis.messaging import Outgoing, Publisher

OUTBOX_FIELD = "outbox"

logger = logging.getLogger(__name__)


def outbox_document(messages: list[Outgoing]) -> dict[str, Any]:
    """The value of the outbox field of a new document."""
    return {str(message.envelope.id): message.to_document() for message in messages}


def outbox_entries(messages: list[Outgoing]) -> dict[str, Any]:
    """The `$set` fields that add messages to an existing document's outbox."""
    return {f"{OUTBOX_FIELD}.{key}": value for key, value in outbox_document(messages).items()}


async def clear_outbox(collection: AsyncCollection, document_id: str, messages: list[Outgoing]) -> None:
    if messages:
        await collection.update_one(
            {"_id": document_id},
            {"$unset": {f"{OUTBOX_FIELD}.{message.envelope.id}": "" for message in messages}},
        )


async def relay_pending(collection: AsyncCollection, publisher: Publisher) -> int:
    """Publish every event left in an outbox of this collection; returns how many."""
    relayed = 0
    async for document in collection.find({OUTBOX_FIELD: {"$gt": {}}}, projection={OUTBOX_FIELD: 1}):
        pending = [Outgoing.from_document(entry) for entry in document[OUTBOX_FIELD].values()]
        pending.sort(key=lambda message: message.envelope.time)
        for message in pending:
            await publisher.publish(message)
        await clear_outbox(collection, document["_id"], pending)
        relayed += len(pending)
    if relayed:
        logger.warning("relayed events left in outboxes", extra={"collection": collection.name, "count": relayed})
    return relayed
