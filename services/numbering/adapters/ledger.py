"""The allocation ledger in MongoDB: one document per number ever handed out.

The ledger is the only source of truth. The `_id` of an entry is its sequence key plus its
sequence number, so two allocations of the same number collide on the primary key and one of
them retries with the next number; a unique index on the invoice id makes allocation idempotent
per invoice. Each entry is written together with the event announcing it (see outbox), so a
number exists if and only if its event will be published: no gaps, no duplicates, across
crashes, redeliveries and concurrent consumers.
"""

from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chassis.messaging import Outgoing
from chassis.outbox import OUTBOX_FIELD, clear_outbox, outbox_document, outbox_entries


class Ledger:
    def __init__(self, db: AsyncDatabase) -> None:
        self.entries = db["allocations"]

    async def ensure_indexes(self) -> None:
        await self.entries.create_index([("invoice_id", ASCENDING)], unique=True, name="one_number_per_invoice")
        await self.entries.create_index([("sequence_key", ASCENDING), ("sequence", DESCENDING)], name="by_sequence")

    async def held_by(self, invoice_id: str) -> dict[str, Any] | None:
        return await self.entries.find_one({"invoice_id": invoice_id}, projection={OUTBOX_FIELD: 0})

    async def last_sequence(self, sequence_key: str) -> int:
        latest = await self.entries.find_one(
            {"sequence_key": sequence_key}, sort=[("sequence", DESCENDING)], projection={"sequence": 1}
        )
        return latest["sequence"] if latest else 0

    async def claim(self, entry: dict[str, Any], announce: list[Outgoing]) -> bool:
        """Write an entry unless its number or its invoice is taken; False when the number is taken.

        Raises InvoiceAlreadyNumbered when the invoice holds a number already (a concurrent
        allocation for the same invoice won).
        """
        document = {
            "_id": f"{entry['sequence_key']}#{entry['sequence']:012d}",
            **entry,
            OUTBOX_FIELD: outbox_document(announce),
        }
        try:
            await self.entries.insert_one(document)
            return True
        except DuplicateKeyError as error:
            if await self.held_by(entry["invoice_id"]) is not None:
                raise InvoiceAlreadyNumbered(entry["invoice_id"]) from error
            return False

    async def record_gap(self, entry_id: str, reason: str, announce: list[Outgoing]) -> bool:
        """Turn a held number into a recorded gap; False when it was a gap already."""
        result = await self.entries.update_one(
            {"_id": entry_id, "status": "held"},
            {"$set": {"status": "gap", "reason": reason, "released_at": datetime.now(UTC), **outbox_entries(announce)}},
        )
        return result.modified_count == 1

    async def pending(self, entry_id: str) -> list[Outgoing]:
        """Events written with the entry and not yet published (a crash came in between)."""
        document = await self.entries.find_one({"_id": entry_id}, projection={OUTBOX_FIELD: 1})
        return [Outgoing.from_document(entry) for entry in (document or {}).get(OUTBOX_FIELD, {}).values()]

    async def published(self, entry_id: str, messages: list[Outgoing]) -> None:
        await clear_outbox(self.entries, entry_id, messages)


class InvoiceAlreadyNumbered(Exception):
    pass
