"""Which messages a consumer group has already handled, so a redelivery has no second effect."""

from datetime import UTC, datetime
from uuid import UUID

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError


class Inbox:
    def __init__(self, db: AsyncDatabase, group: str) -> None:
        self.collection = db["inbox"]
        self.group = group

    def _key(self, message_id: UUID) -> str:
        return f"{self.group}:{message_id}"

    async def seen(self, message_id: UUID) -> bool:
        return await self.collection.find_one({"_id": self._key(message_id)}, projection={"_id": 1}) is not None

    async def mark(self, message_id: UUID, message_type: str) -> None:
        try:
            await self.collection.insert_one(
                {"_id": self._key(message_id), "type": message_type, "handled_at": datetime.now(UTC)}
            )
        except DuplicateKeyError:
            pass  # a concurrent redelivery got there first: the effect happened once either way
