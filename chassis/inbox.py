"""Which messages a consumer group has already handled, so a redelivery has no second effect.

Kept for a retention period (a week by default): redeliveries come from offsets that were not
committed, within minutes, so older entries only cost space.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from chassis.storage import CollectionSpec, Condition, DuplicateDocument, Index, Key, Store

SPEC = CollectionSpec("inbox", keys=(Key("handled_at", "timestamp"),), indexes=(Index(("handled_at",)),))


class Inbox:
    def __init__(self, store: Store, group: str) -> None:
        self.documents = store.collection(SPEC)
        self.group = group

    def _key(self, message_id: UUID) -> str:
        return f"{self.group}:{message_id}"

    async def seen(self, message_id: UUID) -> bool:
        return await self.documents.get(self._key(message_id)) is not None

    async def mark(self, message_id: UUID, message_type: str) -> None:
        try:
            await self.documents.insert({"id": self._key(message_id), "version": 0, "type": message_type,
                                         "handled_at": datetime.now(UTC).isoformat()})
        except DuplicateDocument:
            pass  # a concurrent redelivery got there first: the effect happened once either way

    async def forget_before(self, retention: timedelta) -> int:
        cutoff = datetime.now(UTC) - retention
        return await self.documents.delete_where([Condition("handled_at", "lt", cutoff)])
