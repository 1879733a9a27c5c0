"""Which messages a consumer group has already handled, so a redelivery has no second effect.

A message is remembered by who could have sent it and for whom, not by its id alone: the key is
(consumer group, message id, origin, account), where the origin is the integrator whose own topic
the record came from, or the platform (its services and operators). So an account's command is
never taken for another account's that happened to carry the same id, and an integrator cannot
use up the ids of another integrator or of the operators: each producer spends only its own.

Kept for a retention period (a week by default): redeliveries come from offsets that were not
committed, within minutes, so older entries only cost space.
"""

from datetime import UTC, datetime, timedelta
from uuid import UUID

from chassis.storage import CollectionSpec, Condition, Index, Key, Store
from contracts.topics import Origin

SPEC = CollectionSpec("inbox", keys=(Key("handled_at", "timestamp"),), indexes=(Index(("handled_at",)),))

# No integrator name can be this (integrator names are lower-case letters, digits and dashes).
PLATFORM = "@platform"


def inbox_key(group: str, message_id: UUID, origin: Origin, account_id: str) -> str:
    """`<group>:<message id>:<integrator or @platform>:<account>`. Only the account may contain a
    colon, and it comes last, so no two different tuples share a key."""
    return f"{group}:{message_id}:{origin.integrator or PLATFORM}:{account_id}"


class Inbox:
    def __init__(self, store: Store, group: str) -> None:
        self.documents = store.collection(SPEC)
        self.group = group

    def key(self, message_id: UUID, origin: Origin, account_id: str) -> str:
        return inbox_key(self.group, message_id, origin, account_id)

    async def seen_among(self, keys: list[str]) -> set[str]:
        """The keys (`key()`) handled before, one query for a whole batch."""
        return set(await self.documents.get_many(keys))

    async def mark_all(self, handled: list[tuple[str, str]]) -> None:
        """Remember a batch's messages, (key, type) each, in one write; ones remembered already
        stay as they were."""
        now = datetime.now(UTC).isoformat()
        await self.documents.insert_new([
            {"id": key, "version": 0, "type": message_type, "handled_at": now} for key, message_type in handled
        ])

    async def forget_before(self, retention: timedelta) -> int:
        cutoff = datetime.now(UTC) - retention
        return await self.documents.delete_where([Condition("handled_at", "lt", cutoff)])
