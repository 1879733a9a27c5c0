"""A mail job: one mail about an invoice, from the command that queued it to its last delivery
attempt.

The job is the aggregate: queueing it announces it (the recipients dropped as suppressed, the
mail queued for the rest); each delivery attempt is claimed, then recorded with what the relay
said, and announces its outcome (sent, deferred, bounced). It carries the document the mail is
about and attaches: the invoice, or for a `credit_note` mail the credit note; everything after
queueing treats both alike (composition.MailDocument).
"""

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr, model_validator

from chassis.aggregate import Aggregate
from contracts.messages.mail import (
    MailBounced,
    MailDeferred,
    MailDropped,
    MailEvent,
    MailKind,
    MailQueued,
    MailSent,
    MailText,
)
from services.mailer.domain.composition import MailDocument
from services.mailer.domain.delivery import Assessment, DeliveryReport, RetryPolicy
from services.mailer.domain.notice import NOTICE, Undelivered, UndeliveredNotice

MailStatus = Literal["queued", "sent", "bounced", "dropped"]
QUEUED: MailStatus = "queued"
_NOTICE_NAMESPACE = uuid.UUID("5c0a6a2e-7f0b-4b8a-9a43-d1e2f3a4b5c6")


class Incarnation(BaseModel):
    """One run of one mailer instance. Claims name the run that made them, so the next run of the
    same instance knows that the claims of every earlier run died with it."""

    instance: str
    run: str = Field(default_factory=lambda: uuid.uuid4().hex)


class RefusedRecipient(BaseModel):
    recipient: str
    smtp_code: int | None
    diagnostic: str


class AttemptRecord(BaseModel):
    attempt: int
    at: datetime
    accepted: list[str]
    refused: list[RefusedRecipient]


class MailJob(Aggregate):
    account_id: str
    invoice_id: str
    kind: MailKind | Literal["undelivered_notice"]
    language: str
    attach_pdf: bool
    document: MailDocument
    to: list[str]
    cc: list[str]
    dropped: list[str]
    pending: list[str]
    delivered: list[str] = []
    status: MailStatus
    attempts: int = 0
    next_attempt_at: datetime | None
    queued_at: datetime
    history: list[AttemptRecord] = []
    smtp_message_id: str | None = None
    claimed_by: Incarnation | None = None
    hosted_url: str | None = None  # the link the mail carries, from its command
    wording: MailText | None = None  # the account's own texts of the mail when it was queued
    # The headers of the command that queued the mail: the events of later attempts are caused
    # by it, in its flow.
    cause: dict[str, str]
    # Set on a notice to the account of another mail not delivered (domain.notice); such a job
    # announces nothing and is never noticed itself.
    notice: UndeliveredNotice | None = None
    # Who did not get the mail by the change being made: what its notice tells.
    _undelivered: list[Undelivered] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _document_of_a_stored_invoice_job(cls, data):
        """A job stored before jobs carried credit notes kept its invoice as `invoice`."""
        if isinstance(data, dict) and "invoice" in data and "document" not in data:
            data = {**data, "document": data["invoice"]}
            del data["invoice"]
        return data

    @classmethod
    def queue(cls, *, mail_id: str, account_id: str, invoice_id: str, kind: MailKind, language: str,
              attach_pdf: bool, document: MailDocument, to: list[str], cc: list[str], suppressed: set[str],
              cause: dict[str, str], now: datetime, hosted_url: str | None = None,
              wording: MailText | None = None, not_before: datetime | None = None) -> "MailJob":
        """A mail to the recipients not in `suppressed`, first tried at `not_before` (at once by
        default); dropped when none is left."""
        kept_to = [address for address in to if address not in suppressed]
        kept_cc = [address for address in cc if address not in suppressed]
        recipients = list(dict.fromkeys([*kept_to, *kept_cc]))
        job = cls(
            id=mail_id, account_id=account_id, invoice_id=invoice_id, kind=kind, language=language,
            attach_pdf=attach_pdf, document=document, to=kept_to, cc=kept_cc,
            dropped=[address for address in dict.fromkeys([*to, *cc]) if address in suppressed],
            pending=recipients, status=QUEUED if recipients else "dropped", next_attempt_at=not_before or now,
            queued_at=now, cause=cause, hosted_url=hosted_url, wording=wording,
        )
        job._undelivered = [Undelivered(recipient=address, why="suppressed") for address in job.dropped]
        for event in job.announcements():
            job.record(event)
        return job

    @property
    def gave_up_on_someone(self) -> bool:
        """The change being made gave up on recipients the account is to be told of (not on a notice's)."""
        return self.notice is None and bool(self._undelivered)

    def undelivered_notice(self, to: str, language: str, now: datetime) -> "MailJob | None":
        """The notice to the account (at `to`) of the recipients the change being made gave up on;
        None when there are none, or this job is a notice itself. Its id derives from this mail and
        those recipients, so the same failure noticed again (an attempt made again after a crash)
        is the same notice."""
        if not self.gave_up_on_someone:
            return None
        failed = ",".join(sorted(f"{item.recipient}:{item.why}" for item in self._undelivered))
        notice_id = f"notice-{uuid.uuid5(_NOTICE_NAMESPACE, f'{self.id}/{failed}').hex}"
        return MailJob(
            id=notice_id, account_id=self.account_id, invoice_id=self.invoice_id, kind=NOTICE, language=language,
            attach_pdf=False, document=self.document, to=[to], cc=[], dropped=[], pending=[to], status=QUEUED,
            next_attempt_at=now, queued_at=now, cause=self.cause,
            notice=UndeliveredNotice(mail_id=self.id, kind=self.kind, undelivered=self._undelivered),
        )

    def _common(self) -> dict[str, str]:
        return {"mail_id": self.id, "invoice_id": self.invoice_id, "kind": self.kind}

    def announcements(self) -> list[MailEvent]:
        """How the job is announced, when queued and whenever it is asked for again."""
        events: list[MailEvent] = []
        if self.notice is not None:
            return events
        if self.dropped:
            events.append(MailDropped(**self._common(), recipients=self.dropped, reason="suppressed"))
        if self.status != "dropped":
            events.append(MailQueued(**self._common(), to=self.to, cc=self.cc, queued_at=self.queued_at))
        elif self.history:  # dropped after its tries: only a document that never rendered does that
            events.append(self._document_failed([refusal.recipient for refusal in self.history[-1].refused]))
        return events

    def _document_failed(self, recipients: list[str]) -> MailDropped:
        return MailDropped(**self._common(), recipients=recipients, reason="document_failed")

    def is_due(self, now: datetime) -> bool:
        """Due for an attempt, and the delivery loop's: the queueing handler owns a job until its
        announcements are published and its outbox cleared."""
        return (self.status == QUEUED and self.next_attempt_at is not None and self.next_attempt_at <= now
                and not self.outbox)

    def claim(self, claimant: Incarnation, now: datetime, lease: timedelta) -> None:
        """Count the attempt about to be made (it may reach the relay whatever happens next) and
        keep it from being due again until the lease ends."""
        self.attempts += 1
        self.next_attempt_at = now + lease
        self.claimed_by = claimant

    def release(self, now: datetime) -> None:
        """The attempt died with the run that claimed it: due again at once."""
        self.next_attempt_at = now
        self.claimed_by = None

    def record_attempt(self, report: DeliveryReport, policy: RetryPolicy, smtp_message_id: str,
                       now: datetime) -> Assessment:
        """What the relay said about the claimed attempt; returns its assessment."""
        assessment = policy.assess(report, self.attempts, now)
        self.delivered = [*self.delivered, *assessment.delivered]
        self.pending = list(assessment.retry)
        self.status = QUEUED if assessment.retry else ("sent" if self.delivered else "bounced")
        self.next_attempt_at = assessment.retry_at
        self.smtp_message_id = smtp_message_id
        self.claimed_by = None
        self.history = [*self.history, AttemptRecord(
            attempt=self.attempts, at=now, accepted=list(report.accepted),
            refused=[RefusedRecipient(recipient=address, smtp_code=reply.code, diagnostic=reply.text)
                     for address, reply in report.refused.items()],
        )]
        self._undelivered = [
            *(Undelivered(recipient=address, why="bounced", diagnostic=str(reply))
              for address, reply in assessment.bounced.items()),
            *(Undelivered(recipient=address, why="gave_up", diagnostic=str(reply))
              for address, reply in assessment.given_up.items()),
        ]
        if self.notice is None:  # a notice announces nothing (domain.notice)
            for event in self._outcomes(report, assessment, smtp_message_id, now):
                self.record(event)
        return assessment

    def record_failed_composition(self, diagnostic: str, policy: RetryPolicy, now: datetime) -> bool:
        """The claimed attempt could not compose the mail (its document did not render): nothing
        reached the relay. A failed try like a temporary refusal: tried again after the policy's
        backoff while attempts are left (`mail.deferred`), then dropped for good, and answered
        (`mail.dropped`, `document_failed`). True when it is tried again."""
        retry = self.attempts < policy.max_attempts
        self.status = QUEUED if retry else "dropped"
        self.next_attempt_at = now + policy.backoff(self.attempts) if retry else None
        self.claimed_by = None
        self.history = [*self.history, AttemptRecord(
            attempt=self.attempts, at=now, accepted=[],
            refused=[RefusedRecipient(recipient=address, smtp_code=None, diagnostic=diagnostic) for address in self.pending],
        )]
        if not retry:
            self._undelivered = [Undelivered(recipient=address, why="document_failed", diagnostic=diagnostic)
                                 for address in self.pending]
        if self.notice is None:  # a notice announces nothing (domain.notice)
            self.record(MailDeferred(**self._common(), recipients=list(self.pending), diagnostic=diagnostic,
                                     attempt=self.attempts, next_attempt_at=self.next_attempt_at)
                        if retry else self._document_failed(list(self.pending)))
        if not retry:
            self.pending = []
        return retry

    def _outcomes(self, report: DeliveryReport, assessment: Assessment, smtp_message_id: str,
                  now: datetime) -> list[MailEvent]:
        events: list[MailEvent] = []
        if assessment.delivered:
            events.append(MailSent(
                **self._common(),
                to=[address for address in self.to if address in assessment.delivered],
                cc=[address for address in self.cc if address in assessment.delivered],
                sent_at=now, attempts=self.attempts, smtp_message_id=smtp_message_id,
            ))
        if assessment.retry:
            deferred = {address: report.refused[address] for address in assessment.retry}
            events.append(MailDeferred(
                **self._common(), recipients=list(assessment.retry), attempt=self.attempts,
                smtp_code=next(iter(deferred.values())).code,
                diagnostic="; ".join(f"{address}: {reply}" for address, reply in deferred.items()),
                next_attempt_at=assessment.retry_at,
            ))
        for permanent, refusals in ((True, assessment.bounced), (False, assessment.given_up)):
            if refusals:
                events.append(MailBounced(
                    **self._common(), recipients=list(refusals), permanent=permanent,
                    smtp_code=next(iter(refusals.values())).code,
                    diagnostic="; ".join(f"{address}: {reply}" for address, reply in refusals.items()),
                    attempts=self.attempts,
                ))
        return events
