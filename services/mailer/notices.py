"""Queueing the notice of an undelivered mail in the write that gives up on it (domain.notice).

The notice is a new job written before the job whose change gave up (commit(notice, job)), so a
crash between the two writes leaves the notice, and the change made again finds it by its id.
"""

import logging
from datetime import datetime

from chassis.context import HandlerContext
from services.mailer.adapters.accounts import MailerAccounts
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.domain.mail_job import MailJob
from services.mailer.domain.notice import notice_language
from services.mailer.metrics import MailerMetrics

logger = logging.getLogger(__name__)


class UndeliveredNotices:
    def __init__(self, accounts: MailerAccounts, jobs: MailJobs, suppressions: SuppressionList,
                 metrics: MailerMetrics) -> None:
        self.accounts = accounts
        self.jobs = jobs
        self.suppressions = suppressions
        self.metrics = metrics

    async def join(self, context: HandlerContext, job: MailJob, now: datetime) -> MailJob | None:
        """The notice of the recipients `job`'s change gave up on, joined to the unit of work;
        None when there is nothing to tell, nowhere to tell it, or it was written already."""
        if not job.gave_up_on_someone:
            return None  # most changes: and then the account is not read
        account = await self.accounts.get(job.account_id)
        address = account.notification_address() if account is not None else None
        notice = job.undelivered_notice(address, notice_language(account.company_address.country), now) \
            if address else None
        if notice is None or await self.jobs.get(job.account_id, notice.id) is not None:
            return None
        if await self.suppressions.suppressed_among(job.account_id, [address]):
            # Its own address bounced for good: the account hears of it once it lifts the suppression.
            logger.warning("no notice of an undelivered mail: the account's notification address is suppressed",
                           extra={"mail_id": job.id, "account_id": job.account_id})
            self.metrics.notices.labels("suppressed").inc()
            return None
        return context.uow.add(self.jobs, notice)

    async def commit(self, context: HandlerContext, job: MailJob, now: datetime) -> None:
        """Commit the change of `job`, with the notice of what it gave up on written first."""
        notice = await self.join(context, job, now)
        await context.uow.commit(*((notice, job) if notice is not None else ()))
        if notice is not None:
            self.metrics.notices.labels("queued").inc()
