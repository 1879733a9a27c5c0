"""mailer's subscribers: keep each account's configuration, queue invoice and credit-note mails for
the batch delivery, lift suppressions, render previews.

A mail's issuer (sender, Reply-To, company details) and the IBAN it asks to be paid to are the
account's own, from the mailer's copy of its configuration (account.configured on accounts.events);
what a command's snapshot says of them is ignored. A mail for an account the mailer does not know
is refused (`unknown_account`) after a short wait for its configuration: see docs/design.md, "Mail".
"""

import asyncio
import logging
from datetime import UTC, datetime

from chassis.context import HandlerContext
from chassis.service import Service
from contracts.messages.credit_notes import CreditNoteSnapshot
from contracts.messages.invoices import AccountConfigured
from contracts.messages.mail import (
    MailKind,
    MailPreviewed,
    PreviewMail,
    SendCreditNoteMail,
    SendInvoiceMail,
    SendReminderMail,
    UnsuppressAddress,
)
from contracts.refusals import Refusal
from services.mailer.adapters.accounts import MailerAccounts
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.domain.account import MailerAccount
from services.mailer.domain.composition import MailDocument, render_content
from services.mailer.domain.mail_job import MailJob
from services.mailer.domain.suppression import Suppression
from services.mailer.metrics import MailerMetrics
from services.mailer.notices import UndeliveredNotices

logger = logging.getLogger(__name__)


def register(service: Service, accounts: MailerAccounts, jobs: MailJobs, suppressions: SuppressionList,
             notices: UndeliveredNotices, metrics: MailerMetrics) -> None:
    consumer = service.consumer
    wait_for_account = service.settings.account_wait_seconds

    @consumer.handles(AccountConfigured)
    async def account_configured(context: HandlerContext, event: AccountConfigured) -> None:
        if event.account_id != context.account_id:
            logger.warning("account.configured for another account than its envelope's: ignored",
                           extra={"data_account_id": event.account_id})
            metrics.foreign_account_events.inc()
            return
        account = await context.uow.get(accounts, event.account_id) or context.uow.add(
            accounts, MailerAccount(id=event.account_id))
        account.configured(event)
        await context.uow.commit()

    async def configured_account(account_id: str) -> MailerAccount | None:
        """The account as the mailer knows it. One it does not know yet may be on its way: the
        account.configured published just before this command can be in the same batch, handled
        concurrently under another key; so it is looked for again for a short while."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_for_account
        while (account := await accounts.get(account_id)) is None and loop.time() < deadline:
            await asyncio.sleep(0.05)
        return account

    async def sending_account(context: HandlerContext, invoice_id: str, document: MailDocument) -> MailerAccount:
        """The account the mail is sent for, as the mailer knows it; refuses a mail it cannot send."""
        if document.account_id != context.account_id:
            raise Refusal("account_mismatch", "The invoice belongs to another account.")
        corrected = document.invoice_id if isinstance(document, CreditNoteSnapshot) else document.id
        if corrected != invoice_id:
            raise Refusal("invoice_mismatch", "The snapshot is not of the invoice the command names.")
        account = await configured_account(context.account_id)
        if account is None:
            raise Refusal("unknown_account", "The mailer knows no configuration of this account; configure it "
                                             "(account.configure) before sending its invoices.")
        if account.issuer() is None:
            raise Refusal("issuer_missing", "The account has no company name or sender email configured, so "
                                            "there is no sender for the mail.")
        return account

    @consumer.handles(SendInvoiceMail)
    async def send_invoice(context: HandlerContext, command: SendInvoiceMail) -> None:
        await queue_mail(context, command, command.kind, command.invoice)

    @consumer.handles(SendReminderMail)
    async def send_reminder(context: HandlerContext, command: SendReminderMail) -> None:
        await queue_mail(context, command, "reminder", command.invoice)

    @consumer.handles(SendCreditNoteMail)
    async def send_credit_note(context: HandlerContext, command: SendCreditNoteMail) -> None:
        await queue_mail(context, command, "credit_note", command.credit_note)

    @consumer.handles(UnsuppressAddress)
    async def unsuppress(context: HandlerContext, command: UnsuppressAddress) -> None:
        # Looked for under the message's account only: another account's suppression is not found.
        entry = await context.uow.get(suppressions, Suppression.entry_id(context.account_id, command.address))
        if entry is None or not entry.suppressed:
            raise Refusal("not_suppressed", f"The account does not suppress {command.address}.")
        entry.lift(by=context.envelope.actor, reason=command.reason, now=datetime.now(UTC))
        await context.uow.commit()
        logger.info("suppression lifted", extra={"address": entry.address, "actor": context.envelope.actor,
                                                 "reason": command.reason, "suppressed_at": entry.suppressed_at,
                                                 "bounced_mail_id": entry.mail_id, "diagnostic": entry.diagnostic})

    @consumer.handles(PreviewMail)
    async def preview(context: HandlerContext, command: PreviewMail) -> None:
        if command.kind == "credit_note":
            raise Refusal("invalid_data", "A preview shows an invoice's mails; a credit note's mail is about the "
                                          "credit note, which mail.preview does not carry.")
        account = await sending_account(context, command.invoice_id, command.invoice)
        invoice = account.as_issuer_of(command.invoice)
        content = render_content(invoice, invoice.issuer, command.kind, command.language,
                                 wording=account.wording(command.language, command.kind))
        context.emit(
            MailPreviewed(
                invoice_id=command.invoice_id,
                kind=command.kind,
                language=command.language,
                subject=content.subject,
                body_text=content.text,
            )
        )

    async def queue_mail(context: HandlerContext, command: SendInvoiceMail | SendReminderMail | SendCreditNoteMail,
                         kind: MailKind, document: MailDocument) -> None:
        account = await sending_account(context, command.invoice_id, document)
        if isinstance(document, CreditNoteSnapshot):
            if document.status != "issued" or not document.number:
                raise Refusal("credit_note_not_issued", "A credit note is sent once it is issued with its number.")
        elif document.status == "draft" or not document.number:
            raise Refusal("invoice_not_finalized", "A draft invoice cannot be sent; finalize it first.")

        existing = await jobs.get(context.account_id, command.mail_id)
        if existing is None:
            now = datetime.now(UTC)
            suppressed = await suppressions.suppressed_among(context.account_id, [*command.to, *command.cc])
            # A concurrent command of the account with this mail_id (another invoice's, on another
            # partition) may win the insert: commit then fails, and the consumer's retry finds its job above.
            # The job keeps the document as the mail prints it: with the account's own issuer and IBAN.
            job = context.uow.add(jobs, MailJob.queue(
                mail_id=command.mail_id, account_id=context.account_id, invoice_id=command.invoice_id, kind=kind,
                language=command.language, attach_pdf=command.attach_pdf, document=account.as_issuer_of(document),
                to=command.to, cc=command.cc, suppressed=suppressed, cause=context.envelope.to_headers(), now=now,
                hosted_url=command.hosted_url, wording=account.wording(command.language, kind),
                # A mail nobody asked for just now waits for the account's delivery window.
                not_before=now + account.delivery_window() if command.automatic else now,
            ))
            await notices.commit(context, job, now)
            if job.dropped:
                metrics.mails.labels("dropped").inc()
            return

        if existing.invoice_id != command.invoice_id:
            raise Refusal("mail_id_conflict", "The mail_id is already used by another invoice's mail.")
        # Asked again for the same mail (a redelivery, a double click): the same answer, no second
        # mail, and no write: the job may belong to the delivery loop by now (see adapters.mail_jobs).
        for event in existing.announcements():
            context.emit(event)

