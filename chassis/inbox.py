"""Which messages a consumer group has already handled, so a redelivery has no second effect.

Kept for a retention period (a week by default): redeliveries come from offsets that were not
committed, within minutes, so older entries only cost space.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from chassis.storage import CollectionSpec, Condition, Index, Key, Store

SPEC = CollectionSpec("inbox", keys=(Key("handled_at", "timestamp"),), indexes=(Index(("handled_at",)),))


class Inbox:
    def __init__(self, store: Store, group: str) -> None:
        self.documents = store.collection(SPEC)
        self.group = group

    def _key(self, message_id: UUID) -> str:
        return f"{self.group}:{message_id}"

    async def seen_among(self, message_ids: list[UUID]) -> set[UUID]:
        """The ones handled before (one query for a whole batch)."""
        found = await self.documents.get_many([self._key(message_id) for message_id in message_ids])
        return {message_id for message_id in message_ids if self._key(message_id) in found}

    async def mark_all(self, handled: list[tuple[UUID, str]]) -> None:
        """Remember a batch's messages (one write); ones remembered already stay as they were."""
        now = datetime.now(UTC).isoformat()
        await self.documents.insert_new([
            {"id": self._key(message_id), "version": 0, "type": message_type, "handled_at": now}
            for message_id, message_type in handled
        ])

    async def forget_before(self, retention: timedelta) -> int:
        cutoff = datetime.now(UTC) - retention
        return await self.documents.delete_where([Condition("handled_at", "lt", cutoff)])
