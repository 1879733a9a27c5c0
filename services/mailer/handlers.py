"""mailer's subscribers: queue invoice mails for the batch delivery, render previews."""

from datetime import UTC, datetime

from chassis.context import HandlerContext
from chassis.service import Service
from contracts.messages.common import InvoiceSnapshot, Issuer
from contracts.messages.mail import (
    InvoiceMail,
    MailKind,
    MailPreviewed,
    PreviewMail,
    SendInvoiceMail,
    SendReminderMail,
)
from contracts.refusals import Refusal
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.domain.composition import render_content
from services.mailer.domain.mail_job import MailJob
from services.mailer.metrics import MailerMetrics


def register(service: Service, jobs: MailJobs, suppressions: SuppressionList, metrics: MailerMetrics) -> None:
    consumer = service.consumer

    @consumer.handles(SendInvoiceMail)
    async def send_invoice(context: HandlerContext, command: SendInvoiceMail) -> None:
        await queue_mail(context, command, command.kind)

    @consumer.handles(SendReminderMail)
    async def send_reminder(context: HandlerContext, command: SendReminderMail) -> None:
        await queue_mail(context, command, "reminder")

    @consumer.handles(PreviewMail)
    async def preview(context: HandlerContext, command: PreviewMail) -> None:
        issuer = _checked_issuer(context, command.invoice_id, command.invoice)
        content = render_content(command.invoice, issuer, command.kind, command.language)
        context.emit(
            MailPreviewed(
                invoice_id=command.invoice_id,
                kind=command.kind,
                language=command.language,
                subject=content.subject,
                body_text=content.text,
            )
        )

    async def queue_mail(context: HandlerContext, command: InvoiceMail, kind: MailKind) -> None:
        _checked_issuer(context, command.invoice_id, command.invoice)
        if command.invoice.status == "draft" or not command.invoice.number:
            raise Refusal("invoice_not_finalized", "A draft invoice cannot be sent; finalize it first.")

        existing = await jobs.get(context.account_id, command.mail_id)
        if existing is None:
            suppressed = await suppressions.suppressed_among(context.account_id, [*command.to, *command.cc])
            # A concurrent command of the account with this mail_id (another invoice's, on another
            # partition) may win the insert: commit then fails, and the consumer's retry finds its job above.
            job = context.uow.add(jobs, MailJob.queue(
                mail_id=command.mail_id, account_id=context.account_id, invoice_id=command.invoice_id, kind=kind,
                language=command.language, attach_pdf=command.attach_pdf, invoice=command.invoice, to=command.to,
                cc=command.cc, suppressed=suppressed, cause=context.envelope.to_headers(), now=datetime.now(UTC),
            ))
            await context.uow.commit()
            if job.dropped:
                metrics.mails.labels("dropped").inc()
            return

        if existing.invoice_id != command.invoice_id:
            raise Refusal("mail_id_conflict", "The mail_id is already used by another invoice's mail.")
        # Asked again for the same mail (a redelivery, a double click): the same answer, no second
        # mail, and no write: the job may belong to the delivery loop by now (see adapters.mail_jobs).
        for event in existing.announcements():
            context.emit(event)


def _checked_issuer(context: HandlerContext, invoice_id: str, invoice: InvoiceSnapshot) -> Issuer:
    if invoice.account_id != context.account_id:
        raise Refusal("account_mismatch", "The invoice belongs to another account.")
    if invoice.id != invoice_id:
        raise Refusal("invoice_mismatch", "The invoice snapshot is not the invoice the command names.")
    if invoice.issuer is None:
        raise Refusal("issuer_missing", "The invoice has no issuer, so there is no sender for the mail.")
    return invoice.issuer
