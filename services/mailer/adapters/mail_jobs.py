"""Mail jobs in MongoDB: one document per mail_id, holding the delivery state and its outbox.

Every state change is a single-document update that also writes the events it causes (see
chassis.outbox), so a job and its announcements never disagree after a crash.

A job has one writer at a time, by design: FerretDB 1.24 loses one of two concurrent updates to
a document, so correctness cannot rest on its conditional updates. The queueing handler owns a
new job until it has cleared the job's outbox (the startup relay clears what a crash left there,
before consuming and delivering start). From then on the delivery loop owns it: it claims only
jobs whose outbox is empty, and a send command for an existing job re-announces it without
writing. The loop is one task, so its own writes follow each other.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chassis.messaging import Outgoing
from chassis.outbox import OUTBOX_FIELD, clear_outbox, outbox_document, outbox_entries

QUEUED = "queued"
CLAIM_FIELD = "claimed_by"


@dataclass(frozen=True)
class Incarnation:
    """One run of one mailer instance. Claims name the run that made them, so the next run of the
    same instance knows that the claims of every earlier run died with it."""

    instance: str
    run: str = field(default_factory=lambda: uuid.uuid4().hex)


def _due(now: datetime) -> dict[str, Any]:
    return {"status": QUEUED, "next_attempt_at": {"$lte": now}, OUTBOX_FIELD: {}}


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

    async def due(self, now: datetime, limit: int) -> list[str]:
        """The ids of up to `limit` jobs that the delivery loop owns and that are due for an attempt."""
        found = self.collection.find(
            _due(now), projection={"_id": 1}, sort=[("next_attempt_at", ASCENDING)], limit=limit
        )
        return [job["_id"] async for job in found]

    async def claim(self, mail_id: str, now: datetime, claimant: Incarnation, lease: timedelta) -> dict[str, Any] | None:
        """Count the attempt about to be made and mark the job as the claimant's until the lease ends.

        Another mailer instance skips the job until then; the next run of the claimant's own
        instance releases it at once (release_claims_of_earlier_runs). None: no longer due.
        """
        return await self.collection.find_one_and_update(
            {"_id": mail_id, **_due(now)},
            {
                "$set": {"next_attempt_at": now + lease, CLAIM_FIELD: {"instance": claimant.instance, "run": claimant.run}},
                "$inc": {"attempts": 1},
            },
            # No projection: FerretDB's findAndModify does not implement one.
            return_document=ReturnDocument.AFTER,
        )

    async def release_claims_of_earlier_runs(self, current: Incarnation, now: datetime) -> int:
        """Make the jobs whose attempt died with an earlier run of this instance due now; how many."""
        released = await self.collection.update_many(
            {"status": QUEUED, f"{CLAIM_FIELD}.instance": current.instance, f"{CLAIM_FIELD}.run": {"$ne": current.run}},
            {"$set": {"next_attempt_at": now}, "$unset": {CLAIM_FIELD: ""}},
        )
        return released.modified_count

    async def record_attempt(self, job: dict[str, Any], changes: dict[str, Any], announce: list[Outgoing]) -> None:
        await self.collection.update_one(
            {"_id": job["_id"], "attempts": job["attempts"]},
            {"$set": {**changes, **outbox_entries(announce)}, "$unset": {CLAIM_FIELD: ""}},
        )

    async def published(self, mail_id: str, messages: list[Outgoing]) -> None:
        await clear_outbox(self.collection, mail_id, messages)

    async def queued_count(self) -> int:
        return await self.collection.count_documents({"status": QUEUED})
