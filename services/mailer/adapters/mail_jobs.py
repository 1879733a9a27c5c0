"""Mail jobs in the service's store: one document per account and mail_id, its outbox inside.

Mail ids are chosen by the sender of the command, so they are per account: two accounts may
each have a mail `m1`, and a command never finds another account's job.

A job has one writer at a time, by design. The queueing handler owns a new job until its
announcements are published and its outbox cleared (the relay at startup clears what a crash
left there, before consuming and delivering start). From then on the delivery loop owns it: it
claims only jobs whose outbox is empty, and a send command for an existing job re-announces it
without writing. The loop is one task, so its own writes follow each other. Several mailer
instances on one store exclude each other through the version each write expects.
"""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from chassis.repository import AccountRepository
from chassis.storage import Condition, Index, Key, Order, StaleDocument, when_made
from services.mailer.domain.mail_job import QUEUED, Incarnation, MailJob


class MailJobs(AccountRepository[MailJob]):
    model = MailJob
    collection_name = "mail_jobs"
    keys = (Key("status", "text"), Key("next_attempt_at", "timestamp"),
            Key("claimed_instance", "text", path="claimed_by.instance"))
    # The due jobs and the queue depth are read by the status-led index; a restarted instance
    # finds its earlier claims by the other.
    indexes = (Index(("status", "pending_outbox", "next_attempt_at")), Index(("claimed_instance",)))
    # Any instance's delivery loop claims and writes a job, and the consumer only looks one up to
    # tell a new id from a used one: kept copies would be behind, and never recalled.
    cached = False

    def __init__(self, store) -> None:
        super().__init__(store)
        # Set when outboxes of jobs are cleared: jobs just queued are the delivery loop's now, and
        # may be due at once (BatchDelivery waits on it between batches).
        self.handed_over = asyncio.Event()

    async def clear_outboxes(self, store_ids: Sequence[str]) -> None:
        await super().clear_outboxes(store_ids)
        if store_ids:
            # Once the jobs are the loop's in the store (the consumer's clearing is made when its
            # batch's bookkeeping ends), or the loop would look too early and wait an interval.
            when_made(self.handed_over.set)

    async def due(self, now: datetime, limit: int) -> list[MailJob]:
        """Up to `limit` jobs that the delivery loop owns and that are due for an attempt."""
        return await self.find([Condition("status", "eq", QUEUED), Condition("pending_outbox", "eq", False),
                                Condition("next_attempt_at", "lte", now)],
                               order_by=[Order("next_attempt_at")], limit=limit)

    async def claim(self, job: MailJob, now: datetime, claimant: Incarnation, lease: timedelta) -> bool:
        """Claim the job, as read by `due`, for an attempt until the lease ends; False when it is
        no longer due or was written since it was read (another instance claimed it).

        Another mailer instance skips the job until then; the next run of the claimant's own
        instance releases it at once (release_claims_of_earlier_runs).
        """
        if not job.is_due(now):
            return False
        job.claim(claimant, now, lease)
        return await self._save(job)

    async def release_claims_of_earlier_runs(self, current: Incarnation, now: datetime) -> int:
        """Make the jobs whose attempt died with an earlier run of this instance due now; how many."""
        released = 0
        for job in await self.find([Condition("claimed_instance", "eq", current.instance)]):
            if job.claimed_by.run != current.run:
                job.release(now)
                released += await self._save(job)
        return released

    async def queued_count(self) -> int:
        return await self.documents.count([Condition("status", "eq", QUEUED)])

    async def _save(self, job: MailJob) -> bool:
        """Write a change that announces nothing (a claim, a release); False when another
        instance wrote the job since it was read."""
        loaded_version = job.version
        job.version += 1
        try:
            await self.update(job, loaded_version)
        except StaleDocument:
            return False
        return True
