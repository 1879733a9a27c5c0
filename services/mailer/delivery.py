"""The batch delivery loop: at every interval, send the due mail jobs under the rate limit.

There is no handler context here, so the loop writes each outcome with its events into the
job's outbox, publishes them itself, then clears the outbox; the relay at startup covers a
crash in between.
"""

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from chassis.messaging import Outgoing
from chassis.service import Service
from contracts.envelope import Envelope
from contracts.messages.common import InvoiceSnapshot
from contracts.messages.mail import MailBounced, MailDeferred, MailEvent, MailSent
from services.mailer.adapters.mail_jobs import QUEUED, Incarnation, MailJobs
from services.mailer.adapters.pdf import render_invoice_pdf
from services.mailer.adapters.smtp import SmtpRelay
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.domain.composition import build_message, message_id, render_content
from services.mailer.domain.delivery import Assessment, DeliveryReport, RetryPolicy
from services.mailer.metrics import MailerMetrics
from services.mailer.settings import MailerSettings

# A claim outlives the attempt it announces: the SMTP conversation (bounded by the SMTP timeout)
# plus rendering and two document writes, so no other instance takes a job still being attempted.
_CLAIM_MARGIN = timedelta(seconds=15)
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
        suppressions: SuppressionList,
        relay: SmtpRelay,
        metrics: MailerMetrics,
    ) -> None:
        self.service = service
        self.settings = settings
        self.jobs = jobs
        self.suppressions = suppressions
        self.relay = relay
        self.metrics = metrics
        self.policy = RetryPolicy(max_attempts=settings.max_attempts, base_seconds=settings.retry_base_seconds)
        self.incarnation = Incarnation(settings.instance)
        self.lease = timedelta(seconds=settings.smtp_timeout_seconds) + _CLAIM_MARGIN

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
        while True:
            await self.deliver_due()
            await asyncio.sleep(self.settings.batch_interval_seconds)

    async def deliver_due(self) -> None:
        due = await self.jobs.due(datetime.now(UTC), self.settings.batch_size)
        started = time.monotonic()
        for position, mail_id in enumerate(due):
            await asyncio.sleep(max(0.0, started + position / self.settings.rate_per_second - time.monotonic()))
            # Claimed just before its attempt, so a claim's lease covers one attempt, not a batch.
            job = await self.jobs.claim(mail_id, datetime.now(UTC), self.incarnation, self.lease)
            if job is None:
                continue  # another mailer instance claimed it
            try:
                await self.attempt(job)
            except Exception:
                # One job that cannot be sent must not hold back the rest of the batch; its claim
                # lapses and it is tried again then.
                logger.exception("delivery attempt failed", extra={"mail_id": mail_id})
        self.metrics.queue_depth.set(await self.jobs.queued_count())

    async def attempt(self, job: dict[str, Any]) -> None:
        invoice = InvoiceSnapshot.model_validate(job["invoice"])
        issuer = invoice.issuer  # the queueing handler refused invoices without one
        now = datetime.now(UTC)
        smtp_message_id = message_id(job["account_id"], job["_id"], issuer.email)
        message = build_message(
            invoice,
            issuer,
            render_content(invoice, issuer, job["kind"], job["language"]),
            to=job["to"],
            cc=job["cc"],
            message_id=smtp_message_id,
            sent_at=now,
            pdf=render_invoice_pdf(invoice, issuer, job["language"]) if job["attach_pdf"] else None,
        )
        report = await self.relay.deliver(message, sender=issuer.email, recipients=job["pending"])
        assessment = self.policy.assess(report, job["attempts"], now)

        announce = self._announcements(job, report, assessment, smtp_message_id, now)
        if assessment.suppress:
            await self.suppressions.suppress(job["account_id"], job["_id"], assessment.suppress)
        delivered = [*job["delivered"], *assessment.delivered]
        await self.jobs.record_attempt(
            job,
            {
                "status": QUEUED if assessment.retry else ("sent" if delivered else "bounced"),
                "pending": list(assessment.retry),
                "delivered": delivered,
                "next_attempt_at": assessment.retry_at,
                "smtp_message_id": smtp_message_id,
                "history": [
                    *job["history"],
                    {
                        "attempt": job["attempts"],
                        "at": now,
                        "accepted": list(report.accepted),
                        "refused": [
                            {"recipient": address, "smtp_code": reply.code, "diagnostic": reply.text}
                            for address, reply in report.refused.items()
                        ],
                    },
                ],
            },
            announce,
        )
        for outgoing in announce:
            await self.service.publisher.publish(outgoing)
        await self.jobs.published(job["_id"], announce)

        if assessment.retry:
            self.metrics.retries.inc()
        for outgoing in announce:
            if isinstance(outgoing.data, (MailSent, MailBounced)):
                self.metrics.mails.labels("sent" if isinstance(outgoing.data, MailSent) else "bounced").inc()

    def _announcements(
        self, job: dict[str, Any], report: DeliveryReport, assessment: Assessment, smtp_message_id: str, now: datetime
    ) -> list[Outgoing]:
        common = {"mail_id": job["_id"], "invoice_id": job["invoice_id"], "kind": job["kind"]}
        attempts = job["attempts"]
        events: list[MailEvent] = []
        if assessment.delivered:
            events.append(
                MailSent(
                    **common,
                    to=[address for address in job["to"] if address in assessment.delivered],
                    cc=[address for address in job["cc"] if address in assessment.delivered],
                    sent_at=now,
                    attempts=attempts,
                    smtp_message_id=smtp_message_id,
                )
            )
        if assessment.retry:
            deferred = {address: report.refused[address] for address in assessment.retry}
            events.append(
                MailDeferred(
                    **common,
                    recipients=list(assessment.retry),
                    attempt=attempts,
                    smtp_code=next(iter(deferred.values())).code,
                    diagnostic="; ".join(f"{address}: {reply}" for address, reply in deferred.items()),
                    next_attempt_at=assessment.retry_at,
                )
            )
        for permanent, refusals in ((True, assessment.bounced), (False, assessment.given_up)):
            if refusals:
                events.append(
                    MailBounced(
                        **common,
                        recipients=list(refusals),
                        permanent=permanent,
                        smtp_code=next(iter(refusals.values())).code,
                        diagnostic="; ".join(f"{address}: {reply}" for address, reply in refusals.items()),
                        attempts=attempts,
                    )
                )
        cause = Envelope.from_headers(job["cause"])
        return [
            Outgoing(
                cause.caused(
                    source=self.service.name,
                    type=event.type_name,
                    subject=event.aggregate_id(),
                    index=attempts * _INDEXES_PER_ATTEMPT + position,
                ),
                event,
            )
            for position, event in enumerate(events)
        ]
