"""The batch delivery loop: at every interval, send the due mail jobs under the rate limit.

The loop is not a message handler, yet an attempt is committed like a handled message: by a
unit of work, the job with its recorded events in its outbox in one write, then the events
published, and the outboxes of a batch's attempts cleared together; the relay at startup
covers a crash in between.
"""

import asyncio
import contextlib
import logging
import math
import time
from datetime import UTC, datetime, timedelta
from email.message import Message

from chassis.context import HandlerContext, clear_outboxes
from chassis.service import Service
from contracts.envelope import Envelope
from contracts.messages.mail import MailBounced, MailCommandRejected, MailDropped, MailSent
from documents.rendering import DocumentRenderer, RenderFailed
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.adapters.pace import Paces
from services.mailer.adapters.smtp import SmtpRelay
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.domain.composition import build_message, message_id, render_content
from services.mailer.domain.delivery import RetryPolicy
from services.mailer.domain.mail_job import QUEUED, Incarnation, MailJob
from services.mailer.domain.notice import build_notice
from services.mailer.metrics import MailerMetrics
from services.mailer.notices import UndeliveredNotices
from services.mailer.settings import MailerSettings

# A claim outlives the attempt it announces, so no other instance takes a job still being
# attempted: its document (waiting for a worker behind the other attempts in flight, then
# rendering, each render within DOCUMENT_RENDER_SECONDS), the SMTP conversation (bounded by the
# SMTP timeout) and a few store round trips (the margin).
_CLAIM_MARGIN = timedelta(seconds=15)


def claim_lease(settings: MailerSettings, render_seconds: float) -> timedelta:
    """How long a delivery claim holds its job: see _CLAIM_MARGIN."""
    renders_per_attempt = math.ceil(settings.concurrency / max(settings.compose_processes, 1))
    return timedelta(seconds=settings.smtp_timeout_seconds + render_seconds * renders_per_attempt) + _CLAIM_MARGIN
# Events of attempt n use causation indexes n*10 .. n*10+9, clear of the indexes the queueing
# handler used (0, 1) and of each other, so their ids stay deterministic per attempt.
_INDEXES_PER_ATTEMPT = 10

logger = logging.getLogger(__name__)


class BatchDelivery:
    def __init__(
        self,
        service: Service,
        settings: MailerSettings,
        jobs: MailJobs,
        pace: Paces,
        suppressions: SuppressionList,
        notices: UndeliveredNotices,
        relay: SmtpRelay,
        metrics: MailerMetrics,
    ) -> None:
        self.service = service
        self.settings = settings
        self.jobs = jobs
        self.pace = pace
        self.suppressions = suppressions
        self.notices = notices
        self.relay = relay
        self.metrics = metrics
        self.policy = RetryPolicy(max_attempts=settings.max_attempts, base_seconds=settings.retry_base_seconds)
        self.incarnation = Incarnation(instance=settings.instance)
        # MAILER_COMPOSE_PROCESSES render the mails' documents; composing the rest of a mail costs little.
        self.renderer = DocumentRenderer(settings.compose_processes)
        self.lease = claim_lease(settings, self.renderer.seconds)
        # Attempts in flight over all batches; the jobs (account, id) of the batches in flight.
        self._in_flight = asyncio.Semaphore(settings.concurrency)
        self._attempting: set[tuple[str, str]] = set()
        self._batches: set[asyncio.Task] = set()

    async def release_claims_of_earlier_runs(self) -> None:
        """Before delivering: the attempts this instance's previous run had claimed died with it."""
        released = await self.jobs.release_claims_of_earlier_runs(self.incarnation, datetime.now(UTC))
        if released:
            logger.warning(
                "mails whose attempt died with the previous run are due again; the relay may have taken "
                "them already, so they may arrive twice, with the same Message-ID",
                extra={"count": released, "instance": self.incarnation.instance},
            )

    async def deliver_in_batches(self) -> None:
        try:
            while True:
                self.jobs.handed_over.clear()
                try:
                    full = (await self.start_batch())[1]
                except Exception:
                    # The store did not answer: the batches in flight go on (cancelled, an attempt
                    # the relay took could be made again), and the loop looks again after a wait.
                    logger.exception("looking for due mails failed")
                    full = False
                # A full batch most likely left due jobs behind: the next one starts at once, still
                # under the rate limit, instead of letting a backlog wait an interval per batch.
                if not full:
                    await self._next_batch()
        finally:
            for batch in self._batches:
                batch.cancel()
            await asyncio.gather(*self._batches, return_exceptions=True)
            self.renderer.close()
            await self.relay.close()

    async def _next_batch(self) -> None:
        """Wait for the interval, or until this instance's consumer hands queued jobs over to the
        loop (their announcements published) or a batch ends: a mail due at once does not wait up
        to an interval, nor for the batches in flight. The pace still spaces its start from the
        others'. (The loop's own attempts hand over too, which costs one more look for due jobs.)"""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.jobs.handed_over.wait(), self.settings.batch_interval_seconds)

    async def deliver_due(self) -> bool:
        """Send a batch of due jobs and wait until it is done (start_batch); True when it was full."""
        batch, full = await self.start_batch()
        if batch is not None:
            await batch
        return full

    async def start_batch(self) -> tuple[asyncio.Task | None, bool]:
        """Start a batch of the due jobs that no batch in flight is attempting, without waiting for
        it, while fewer than MAILER_CONCURRENCY jobs are in flight; with the batches in flight, at
        most MAILER_BATCH_SIZE jobs at once. Its jobs start at
        the rate limit, up to MAILER_CONCURRENCY attempts at once over all batches, so one
        conversation's wait for the relay or the store does not hold up the next. The batch's start
        slots are reserved in the store's pace (domain.pace), after those of earlier batches of
        every instance, so the rate holds across batches and instances. Each job is attempted by
        one task only, so it keeps one writer. The batch task, and whether the batch was full."""
        # While every attempt slot has a job waiting for it or in it, a job found now would only
        # wait behind them: looked for when a slot may be free (the jobs of a batch in flight are
        # found again, until claimed: the fewer in flight, the cheaper the look).
        room = self.settings.batch_size - len(self._attempting)
        if room <= 0 or len(self._attempting) >= self.settings.concurrency:
            return None, False
        now = datetime.now(UTC)
        due = [job for job in await self.jobs.due(now, self.settings.batch_size)
               if (job.account_id, job.id) not in self._attempting][:room]
        if not due:
            return None, False
        self._attempting.update((job.account_id, job.id) for job in due)
        try:
            first = await self.pace.reserve(len(due), self.settings.rate_per_second, now)
        except BaseException:
            self._attempting.difference_update((job.account_id, job.id) for job in due)
            raise
        batch = asyncio.create_task(self._deliver(due, time.monotonic() + (first - now).total_seconds()))
        self._batches.add(batch)
        batch.add_done_callback(self._batches.discard)
        return batch, len(due) == room

    async def _deliver(self, due: list[MailJob], started: float) -> None:
        """Attempt the batch's jobs from `started` (time.monotonic()) on; the outboxes of the
        attempts whose events are on Kafka are cleared once for the batch, as the consumer does."""
        published: list[HandlerContext] = []

        async def deliver(position: int, job: MailJob) -> None:
            try:
                await asyncio.sleep(max(0.0, started + position / self.settings.rate_per_second - time.monotonic()))
                async with self._in_flight:
                    context = await self.claim_and_attempt(job)
            finally:
                self._attempting.discard((job.account_id, job.id))
            if context is not None:
                published.append(context)

        try:
            await asyncio.gather(*(deliver(position, job) for position, job in enumerate(due)))
            await clear_outboxes(published)
            self.metrics.queue_depth.set(await self.jobs.queued_count())
        except Exception:
            # Its claims lapse and its outboxes are the relay's at the next start, as after a crash.
            logger.exception("delivery batch failed", extra={"mails": len(due)})

    async def claim_and_attempt(self, job: MailJob) -> HandlerContext | None:
        """The attempt's context once its events are on Kafka; None when there was no attempt
        or it failed."""
        # Claimed just before its attempt, so a claim's lease covers one attempt, not a batch.
        if not await self.jobs.claim(job, datetime.now(UTC), self.incarnation, self.lease):
            return None  # another mailer instance claimed it
        try:
            return await self.attempt(job)
        except Exception:
            # One job that cannot be sent must not hold back the rest of the batch; its claim
            # lapses and it is tried again then.
            logger.exception("delivery attempt failed", extra={"mail_id": job.id})
            return None

    async def attempt(self, claimed: MailJob) -> HandlerContext:
        # The attempt continues the flow of the command that queued the mail; the unit of work
        # remembers the attempt itself as the change (that command changed the job already).
        context = HandlerContext(Envelope.from_headers(claimed.cause), None, self.service.name, MailCommandRejected,
                                 change_id=f"{claimed.id}/attempt-{claimed.attempts}",
                                 first_index=claimed.attempts * _INDEXES_PER_ATTEMPT)
        job = context.uow.attach(self.jobs, claimed)
        now = datetime.now(UTC)
        try:
            message, smtp_message_id = await self.compose(job, now)
        except Exception as error:
            # Not the relay's fault and maybe not a passing one (a document that cannot render):
            # a failed try, so a mail that never composes ends, answered, after MAILER_MAX_ATTEMPTS.
            logger.warning("mail not composed", exc_info=not isinstance(error, RenderFailed),
                           extra={"mail_id": job.id, "attempt": job.attempts, "diagnostic": str(error)})
            retry = job.record_failed_composition(str(error) if isinstance(error, RenderFailed) else
                                                  f"The mail could not be composed: {type(error).__name__}.",
                                                  self.policy, now)
        else:
            report = await self.relay.deliver(message, sender=job.document.issuer.email, recipients=job.pending)
            assessment = job.record_attempt(report, self.policy, smtp_message_id, now)
            retry = bool(assessment.retry)
            if assessment.suppress:
                await self.suppressions.suppress(job.account_id, job.id, assessment.suppress, now)
        await self.notices.commit(context, job, now)
        await asyncio.gather(*[await self.service.publisher.send(outgoing) for outgoing in context.emitted])

        if retry:
            self.metrics.retries.inc()
        if job.notice is not None and job.status != QUEUED:
            self.metrics.notices.labels(job.status).inc()
        outcomes = {MailSent: "sent", MailBounced: "bounced", MailDropped: "dropped"}
        for outgoing in context.emitted:
            if type(outgoing.data) in outcomes:
                self.metrics.mails.labels(outcomes[type(outgoing.data)]).inc()
        return context

    async def compose(self, job: MailJob, now: datetime) -> tuple[Message, str]:
        """The mail with its document, rendered by the renderer's workers (or taken from its cache:
        a retried attempt or another mail of the same invoice version renders nothing); a notice
        attaches nothing."""
        if job.notice is not None:
            return build_notice(job.notice, job.document, account_id=job.account_id, notice_id=job.id,
                                to=job.to[0], language=job.language, sent_at=now)
        document = job.document
        pdf = await self.renderer.document(document, document.issuer, job.language) if job.attach_pdf else None
        return compose(job, now, pdf)


def compose(job: MailJob, now: datetime, pdf: bytes | None) -> tuple[Message, str]:
    """The job's mail as it goes out at `now` with its document `pdf`, and its SMTP Message-ID."""
    document = job.document
    issuer = document.issuer  # the account's own: the queueing handler put it there
    smtp_message_id = message_id(job.account_id, job.id, issuer.email)
    message = build_message(
        document,
        issuer,
        render_content(document, issuer, job.kind, job.language, attached=pdf is not None, hosted_url=job.hosted_url,
                       wording=job.wording),
        to=job.to,
        cc=job.cc,
        message_id=smtp_message_id,
        sent_at=now,
        pdf=pdf,
    )
    return message, smtp_message_id
