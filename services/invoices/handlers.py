"""invoices' subscribers: commands from outside, and the answers of numbering, payments, mailer."""

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from chassis.consumer import HandlerContext
from chassis.service import Service
from contracts.messages import MessageData
from contracts.messages.invoices import (
    AccountConfigured,
    CloneInvoice,
    ConfigureAccount,
    CreateInvoice,
    DeleteInvoice,
    FinalizeInvoice,
    InvoiceCommandRejected,
    InvoiceCreated,
    InvoiceDeleted,
    InvoiceFinalized,
    InvoiceMarkedUncollectible,
    InvoiceMarkedUnpaid,
    InvoicePaid,
    InvoicePaymentApplied,
    InvoiceSent,
    InvoiceUpdated,
    InvoiceVoided,
    MarkInvoicePaid,
    MarkInvoiceUncollectible,
    MarkInvoiceUnpaid,
    SendInvoice,
    UpdateInvoice,
    VoidInvoice,
)
from contracts.messages.mail import MailBounced, MailDeferred, MailDropped, MailQueued, MailSent, SendInvoiceMail
from contracts.messages.numbering import AllocateNumber, NumberAllocated, NumberRejected, series_key
from contracts.messages.payments import PaymentMatched, PaymentRemoved
from services.invoices.adapters.repository import AccountRepository, InvoiceExists, InvoiceRepository, QuoteLinks
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.invoice import Invoice, Payment

logger = logging.getLogger("invoices.handlers")

_MAIL_ID_NAMESPACE = uuid.UUID("0b7f4a39-58f5-4a8f-9a7e-1c51d6c3a0e2")


class AlreadyApplied(Exception):
    """The message changed the invoice before (a redelivery); only its events may be unpublished."""


class NotOurs(Exception):
    """An event about an invoice of another account, or of no invoice we know: nothing to do."""


def now() -> datetime:
    return datetime.now(UTC)


class InvoiceHandlers:
    def __init__(self, service: Service, invoices: InvoiceRepository, accounts: AccountRepository, quotes: QuoteLinks):
        self.invoices = invoices
        self.accounts = accounts
        self.quotes = quotes
        self.consumer = service.consumer

    # --- plumbing -------------------------------------------------------------------------------

    def on(self, model: type[MessageData], *, when_dead_lettered: bool = False):
        """Register a handler that may stop early: a redelivery, or an event that is not ours; or,
        `when_dead_lettered`, what to do once the model's own handler has failed for good."""

        def register(handler: Callable[[HandlerContext, Any], Awaitable[None]]):
            async def handle(context: HandlerContext, data: MessageData) -> None:
                try:
                    await handler(context, data)
                except AlreadyApplied:
                    pass
                except NotOurs as skipped:
                    logger.warning("event skipped", extra={"detail": str(skipped)})

            registrar = self.consumer.when_dead_lettered if when_dead_lettered else self.consumer.handles
            return registrar(model)(handle)

        return register

    async def load(self, context: HandlerContext, invoice_id: str) -> Invoice:
        found = await self.invoices.get(invoice_id)
        is_command = context.data is not None and context.data.message_kind == "command"
        if found is None or found[0].deleted:
            if is_command:
                raise RuleViolation("unknown_invoice", f"There is no invoice {invoice_id!r}.")
            raise NotOurs(f"unknown invoice {invoice_id}")
        invoice, pending = found
        if invoice.account_id != context.account_id:
            if is_command:
                raise RuleViolation("account_mismatch", "The invoice belongs to another account.")
            raise NotOurs(f"invoice {invoice_id} belongs to another account")
        if invoice.handled(str(context.envelope.id)):
            self._republish(context, invoice.id, pending)
            raise AlreadyApplied()
        return invoice

    def _republish(self, context: HandlerContext, invoice_id: str, pending) -> None:
        context.emitted.extend(pending)
        context.after_publish(lambda: self.invoices.published(invoice_id, pending))

    async def commit(self, context: HandlerContext, invoice: Invoice, events: Callable[[], list[MessageData]],
                     *, new: bool = False) -> None:
        """Save the invoice with the events it causes, built after the version bump."""
        loaded_version = invoice.version
        invoice.version += 1
        announce = [context.emit(event) for event in events()]
        if new:
            await self.invoices.add(invoice, announce)
        else:
            await self.invoices.save(invoice, loaded_version, announce)
        context.after_publish(lambda: self.invoices.published(invoice.id, announce))

    @staticmethod
    def who(context: HandlerContext) -> dict[str, Any]:
        return {"now": now(), "actor": context.envelope.actor, "message_id": str(context.envelope.id)}

    # --- registration ---------------------------------------------------------------------------

    def register(self) -> None:  # noqa: C901  (one small closure per message type reads best)
        @self.on(ConfigureAccount)
        async def configure_account(context: HandlerContext, command: ConfigureAccount) -> None:
            if command.account_id != context.account_id:
                raise RuleViolation("account_mismatch", "An account can only configure itself.")
            settings = (await self.accounts.get(command.account_id)).configured(command)
            await self.accounts.save(settings)
            context.emit(AccountConfigured(account_id=settings.account_id, settings=settings.model_dump(mode="json")))

        @self.on(CreateInvoice)
        async def create_invoice(context: HandlerContext, command: CreateInvoice) -> None:
            await self._create(context, command)

        @self.on(CloneInvoice)
        async def clone_invoice(context: HandlerContext, command: CloneInvoice) -> None:
            source = await self.load(context, command.invoice_id)
            await self._create(context, source.clone_command(command.new_invoice_id), cloned_from=source.id)

        @self.on(UpdateInvoice)
        async def update_invoice(context: HandlerContext, command: UpdateInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            account = await self.accounts.get(context.account_id)
            changes = invoice.update(command.changes, account, **self.who(context))
            await self.commit(context, invoice, lambda: [
                InvoiceUpdated(invoice_id=invoice.id, invoice=invoice.snapshot(), changes=changes)
            ])

        @self.on(DeleteInvoice)
        async def delete_invoice(context: HandlerContext, command: DeleteInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            status = invoice.status
            invoice.delete(await self.accounts.get(context.account_id), reason=command.reason, **self.who(context))
            await self.commit(context, invoice, lambda: [
                InvoiceDeleted(
                    invoice_id=invoice.id, status=status, number=invoice.number, series_key=invoice.series_key,
                    reason=command.reason, deleted_at=invoice.history[-1].at,
                )
            ])

        @self.on(FinalizeInvoice)
        async def finalize_invoice(context: HandlerContext, command: FinalizeInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            account = await self.accounts.get(context.account_id)
            series = series_key(context.account_id, account.number_format)
            invoice.request_finalization(account, series, **self.who(context))
            pending = invoice.pending_finalization
            await self.commit(context, invoice, lambda: [
                AllocateNumber(
                    series_key=pending.series_key, number_format=pending.number_format,
                    invoice_id=invoice.id, issued_on=pending.issued_on,
                )
            ])

        @self.on(NumberAllocated)
        async def number_allocated(context: HandlerContext, event: NumberAllocated) -> None:
            invoice = await self.load(context, event.invoice_id)
            if invoice.number == event.number:
                return  # the same allocation announced again
            invoice.finalize(event.number, **self.who(context))

            def finalized() -> list[MessageData]:
                snapshot = invoice.snapshot()
                events: list[MessageData] = [InvoiceFinalized(invoice_id=invoice.id, invoice=snapshot)]
                if invoice.status == "paid":
                    events.append(InvoicePaid(invoice_id=invoice.id, invoice=snapshot))
                return events

            await self.commit(context, invoice, finalized)

        @self.on(NumberRejected)
        async def number_rejected(context: HandlerContext, event: NumberRejected) -> None:
            await self._refuse_finalization(context, event.invoice_id, event.reason,
                                            f"No number could be allocated: {event.message}")

        @self.on(NumberAllocated, when_dead_lettered=True)
        async def number_not_applied(context: HandlerContext, event: NumberAllocated) -> None:
            await self._refuse_finalization(
                context, event.invoice_id, "finalization_failed",
                f"Number {event.number} was allocated but could not be applied; it stays reserved for this "
                "invoice: finalize again once the fault is fixed, or delete the draft to record it as a gap.",
                number=event.number,
            )

        @self.on(SendInvoice)
        async def send_invoice(context: HandlerContext, command: SendInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            to = command.to if command.to is not None else invoice.customer.email
            cc = command.cc if command.cc is not None else invoice.customer.cc
            mail_id = f"mail-{uuid.uuid5(_MAIL_ID_NAMESPACE, str(context.envelope.id)).hex}"
            kind = invoice.mail_kind()
            invoice.request_send(mail_id, to, **self.who(context))
            await self.commit(context, invoice, lambda: [
                SendInvoiceMail(
                    mail_id=mail_id, invoice_id=invoice.id, invoice=invoice.snapshot(), to=to, cc=cc,
                    language=command.language or invoice.customer.language, kind=kind,
                )
            ])

        @self.on(MailQueued)
        async def mail_queued(context: HandlerContext, event: MailQueued) -> None:
            invoice = await self.load(context, event.invoice_id)
            invoice.mail_progress("queued", event.mail_id, {"to": event.to}, **self.who(context))
            await self.commit(context, invoice, lambda: [])

        @self.on(MailDeferred)
        async def mail_deferred(context: HandlerContext, event: MailDeferred) -> None:
            invoice = await self.load(context, event.invoice_id)
            detail = event.model_dump(mode="json", include={"recipients", "attempt", "smtp_code", "diagnostic",
                                                            "next_attempt_at"})
            invoice.mail_progress("deferred", event.mail_id, detail, **self.who(context))
            await self.commit(context, invoice, lambda: [])

        @self.on(MailSent)
        async def mail_sent(context: HandlerContext, event: MailSent) -> None:
            invoice = await self.load(context, event.invoice_id)
            invoice.mail_delivered(
                event.mail_id, event.to, event.sent_at, actor=context.envelope.actor, message_id=str(context.envelope.id)
            )
            await self.commit(context, invoice, lambda: [
                InvoiceSent(invoice_id=invoice.id, number=invoice.number, mail_id=event.mail_id, to=event.to,
                            cc=event.cc, sent_at=event.sent_at)
            ])

        @self.on(MailBounced)
        async def mail_bounced(context: HandlerContext, event: MailBounced) -> None:
            await self._mail_failed(context, event, "bounced", "delivery_failed",
                                    f"The email bounced: {event.diagnostic}", {"recipients": event.recipients,
                                    "permanent": event.permanent, "diagnostic": event.diagnostic})

        @self.on(MailDropped)
        async def mail_dropped(context: HandlerContext, event: MailDropped) -> None:
            await self._mail_failed(context, event, "dropped", "recipient_suppressed",
                                    "Every recipient bounced before and is suppressed.",
                                    {"recipients": event.recipients})

        @self.on(PaymentMatched)
        async def payment_matched(context: HandlerContext, event: PaymentMatched) -> None:
            invoice = await self.load(context, event.invoice_id)
            if event.currency != invoice.currency:
                raise RuleViolation("currency_mismatch", f"Payment in {event.currency} for a {invoice.currency} invoice.")
            payment = Payment(
                payment_id=event.payment_id, amount=event.amount, method=event.method, match=event.match,
                online=event.online, paid_on=event.paid_on, transaction_id=event.transaction_id,
            )
            was = invoice.status
            if not invoice.apply_payment(payment, **self.who(context)):
                return

            def applied() -> list[MessageData]:
                snapshot = invoice.snapshot()
                events: list[MessageData] = [InvoicePaymentApplied(
                    invoice_id=invoice.id, invoice=snapshot, payment_id=payment.payment_id,
                    amount=payment.amount, overpaid_amount=invoice.overpaid_amount,
                )]
                if invoice.status == "paid" and was != "paid":
                    events.append(InvoicePaid(invoice_id=invoice.id, invoice=snapshot))
                return events

            await self.commit(context, invoice, applied)

        @self.on(PaymentRemoved)
        async def payment_removed(context: HandlerContext, event: PaymentRemoved) -> None:
            invoice = await self.load(context, event.invoice_id)
            was = invoice.status
            if not invoice.remove_payment(event.payment_id, **self.who(context)):
                return

            def removed() -> list[MessageData]:
                snapshot = invoice.snapshot()
                if was == "paid" and invoice.status == "open":
                    return [InvoiceMarkedUnpaid(invoice_id=invoice.id, invoice=snapshot,
                                                removed_payment_ids=[event.payment_id])]
                change = {"field": "payments", "before": None, "after": None}
                return [InvoiceUpdated(invoice_id=invoice.id, invoice=snapshot, changes=[change])]

            await self.commit(context, invoice, removed)

        @self.on(MarkInvoicePaid)
        async def mark_paid(context: HandlerContext, command: MarkInvoicePaid) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.mark_paid(**self.who(context))
            await self.commit(context, invoice, lambda: [
                InvoicePaid(invoice_id=invoice.id, invoice=invoice.snapshot(), paid_out_of_band=True)
            ])

        @self.on(MarkInvoiceUnpaid)
        async def mark_unpaid(context: HandlerContext, command: MarkInvoiceUnpaid) -> None:
            invoice = await self.load(context, command.invoice_id)
            removed = invoice.mark_unpaid(**self.who(context))
            await self.commit(context, invoice, lambda: [
                InvoiceMarkedUnpaid(invoice_id=invoice.id, invoice=invoice.snapshot(), removed_payment_ids=removed)
            ])

        @self.on(VoidInvoice)
        async def void_invoice(context: HandlerContext, command: VoidInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.void(reason=command.reason, **self.who(context))
            await self.commit(context, invoice, lambda: [
                InvoiceVoided(invoice_id=invoice.id, invoice=invoice.snapshot(), reason=command.reason)
            ])

        @self.on(MarkInvoiceUncollectible)
        async def mark_uncollectible(context: HandlerContext, command: MarkInvoiceUncollectible) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.mark_uncollectible(reason=command.reason, **self.who(context))
            await self.commit(context, invoice, lambda: [
                InvoiceMarkedUncollectible(invoice_id=invoice.id, invoice=invoice.snapshot(), reason=command.reason)
            ])

    # --- shared steps ---------------------------------------------------------------------------

    async def _create(self, context: HandlerContext, command: CreateInvoice, cloned_from: str | None = None) -> None:
        found = await self.invoices.get(command.invoice_id)
        if found is not None:
            invoice, pending = found
            if invoice.account_id == context.account_id and invoice.handled(str(context.envelope.id)):
                self._republish(context, invoice.id, pending)
                return
            raise RuleViolation("invoice_exists", f"The invoice id {command.invoice_id!r} is taken.")
        if command.quote_id and not await self.quotes.claim(context.account_id, command.quote_id, command.invoice_id):
            raise RuleViolation("quote_already_invoiced", f"Quote {command.quote_id!r} already has an invoice.")
        invoice = Invoice.create(command, context.account_id, cloned_from=cloned_from, **self.who(context))
        try:
            await self.commit(context, invoice, lambda: [
                InvoiceCreated(invoice_id=invoice.id, invoice=invoice.snapshot(), cloned_from=cloned_from)
            ], new=True)
        except InvoiceExists:
            raise RuleViolation("invoice_exists", f"The invoice id {command.invoice_id!r} is taken.") from None

    async def _refuse_finalization(self, context: HandlerContext, invoice_id: str, reason: str, message: str,
                                   number: str | None = None) -> None:
        invoice = await self.load(context, invoice_id)
        command_id = invoice.finalization_refused(reason=reason, number=number, **self.who(context))
        if command_id is None:
            return
        await self.commit(context, invoice, lambda: [
            InvoiceCommandRejected(command_id=command_id, command_type=FinalizeInvoice.type_name, reason=reason,
                                   message=message, subject_id=invoice.id)
        ])

    async def _mail_failed(self, context: HandlerContext, event: MailBounced | MailDropped, outcome: str, reason: str,
                           message: str, detail: dict[str, Any]) -> None:
        invoice = await self.load(context, event.invoice_id)
        command_id = invoice.mail_failed(event.mail_id, outcome, detail, **self.who(context))
        await self.commit(context, invoice, lambda: [
            InvoiceCommandRejected(command_id=command_id, command_type=SendInvoice.type_name, reason=reason,
                                   message=message, subject_id=invoice.id)
        ] if command_id else [])
