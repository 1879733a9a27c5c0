"""Mail jobs in MongoDB: one document per mail_id, holding the delivery state and its outbox.

Every state change is a single-document update that also writes the events it causes (see
contracts.runtime.outbox), so a job and its announcements never disagree after a crash.
"""

from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from contracts.runtime.messaging import Outgoing
from contracts.runtime.outbox import OUTBOX_FIELD, clear_outbox, outbox_document, outbox_entries

QUEUED = "queued"


class MailJobs:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["mail_jobs"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)], name="due")

    async def find(self, mail_id: str) -> dict[str, Any] | None:
        return await self.collection.find_one({"_id": mail_id}, projection={OUTBOX_FIELD: 0})

    async def create(self, job: dict[str, Any], announce: list[Outgoing]) -> bool:
        """Store a new job with its announcements; False when the mail_id is taken."""
        try:
            await self.collection.insert_one({**job, OUTBOX_FIELD: outbox_document(announce)})
            return True
        except DuplicateKeyError:
            return False

    async def claim_due(self, now: datetime, limit: int, lease: timedelta) -> list[dict[str, Any]]:
        """Take up to `limit` due jobs and count the attempt about to be made.

        Claiming pushes next_attempt_at past the lease, so a second mailer instance skips the
        job, and a job whose attempt died with its process becomes due again by itself.
        """
        due = self.collection.find(
            {"status": QUEUED, "next_attempt_at": {"$lte": now}},
            projection={"_id": 1},
            sort=[("next_attempt_at", ASCENDING)],
            limit=limit,
        )
        claimed = []
        async for candidate in due:
            job = await self.collection.find_one_and_update(
                {"_id": candidate["_id"], "status": QUEUED, "next_attempt_at": {"$lte": now}},
                {"$set": {"next_attempt_at": now + lease}, "$inc": {"attempts": 1}},
                # No projection: FerretDB's findAndModify does not implement one.
                return_document=ReturnDocument.AFTER,
            )
            if job is not None:
                claimed.append(job)
        return claimed

    async def record_attempt(self, job: dict[str, Any], changes: dict[str, Any], announce: list[Outgoing]) -> None:
        await self.collection.update_one(
            {"_id": job["_id"], "attempts": job["attempts"]},
            {"$set": {**changes, **outbox_entries(announce)}},
        )

    async def published(self, mail_id: str, messages: list[Outgoing]) -> None:
        await clear_outbox(self.collection, mail_id, messages)

    async def queued_count(self) -> int:
        return await self.collection.count_documents({"status": QUEUED})
