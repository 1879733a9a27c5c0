"""invoices' subscribers: commands from outside, and the answers of numbering, payments, mailer.

Each loads the aggregate the message changes through the unit of work, calls one domain method
(which records the events the change causes) and commits. A redelivered message finds its id in
the aggregate and only republishes what may not have been published (the chassis does that).
"""

from datetime import timedelta
from typing import Any

from chassis.context import HandlerContext
from chassis.service import Service
from chassis.storage import DuplicateDocument
from chassis.tenancy import TenantGuard
from contracts.messages.balances import ApplyBalanceToInvoice
from contracts.messages.credit_notes import CreateCreditNote, SendCreditNote
from contracts.messages.invoices import (
    CloneInvoice,
    ConfigureAccount,
    CreateInvoice,
    DeleteInvoice,
    FinalizeInvoice,
    MarkInvoicePaid,
    MarkInvoiceUncollectible,
    MarkInvoiceUnpaid,
    ReviseInvoice,
    RotateHostedLink,
    RunInvoiceClock,
    SendInvoice,
    SettleRevisedInvoice,
    UpdateInvoice,
    VoidInvoice,
)
from contracts.messages.mail import MailBounced, MailDeferred, MailDropped, MailQueued, MailSent
from contracts.messages.numbering import NumberAllocated, NumberRejected, series_key
from contracts.messages.payments import PaymentMatched, PaymentPending, PaymentRemoved
from services.invoices.adapters.accounts import Accounts
from services.invoices.adapters.customer_balances import CustomerBalances
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.quote_links import QuoteLinks
from services.invoices.clock import Clock
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.hosted_link import HostedLinks
from services.invoices.domain.invoice import Invoice, Payment

# How far ahead of this instance's clock another instance's may be: a clock command for a moment
# up to this much later is run as of that moment (so the command is not spent for nothing), a
# later one is refused.
CLOCK_SKEW = timedelta(minutes=1)

# How an invoice.send is answered when its mail is dropped, per `mail.dropped` reason.
_MAIL_DROPPED = {
    "suppressed": ("recipient_suppressed", "Every recipient bounced before and is suppressed."),
    "document_failed": ("document_failed", "The invoice document could not be rendered; the mail was not sent."),
}


class InvoiceHandlers:
    def __init__(self, service: Service, invoices: Invoices, accounts: Accounts, quotes: QuoteLinks,
                 clock: Clock, balances: CustomerBalances, links: HostedLinks):
        self.invoices = invoices
        self.links = links
        self.balances = balances
        self.accounts = accounts
        self.quotes = quotes
        self.clock = clock
        self.consumer = service.consumer
        self.tenancy = TenantGuard(service.consumer.metrics)

    async def load(self, context: HandlerContext, invoice_id: str) -> Invoice:
        """The invoice this message changes, among the message's account's. Refused when the account
        has none by this id (another account's is not looked at); for an event that means it is not
        applied (logged and counted)."""
        return self._owned(context, invoice_id, await context.uow.get(self.invoices, context.account_id, invoice_id))

    def _owned(self, context: HandlerContext, invoice_id: str, invoice: Invoice | None) -> Invoice:
        # Found by (account, id), so it is the account's; the comparison only guards the key.
        if invoice is None or invoice.deleted or invoice.account_id != context.account_id:
            raise self.tenancy.refused(context, RuleViolation("unknown_invoice", f"There is no invoice {invoice_id!r}."))
        return invoice

    def who(self, context: HandlerContext) -> dict[str, Any]:
        return {"now": self.clock.now(context.account_id), "actor": context.envelope.actor,
                "message_id": str(context.envelope.id)}

    def register(self) -> None:
        handles = self.consumer.handles

        @handles(ConfigureAccount)
        async def configure_account(context: HandlerContext, command: ConfigureAccount) -> None:
            self.tenancy.check(context, command.account_id, "account to configure")
            account = await context.uow.get(self.accounts, context.account_id) or context.uow.add(
                self.accounts, AccountSettings(id=context.account_id)
            )
            account.configure(command)
            await context.uow.commit()

        @handles(CreateInvoice)
        async def create_invoice(context: HandlerContext, command: CreateInvoice) -> None:
            await self._create(context, command)

        @handles(CloneInvoice)
        async def clone_invoice(context: HandlerContext, command: CloneInvoice) -> None:
            # Read only: cloning does not change the source.
            source = self._owned(context, command.invoice_id,
                                 await self.invoices.get(context.account_id, command.invoice_id))
            await self._create(context, source.clone_command(command.new_invoice_id), cloned_from=source.id)

        @handles(UpdateInvoice)
        async def update_invoice(context: HandlerContext, command: UpdateInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.update(command.changes, await self.accounts.settings_of(context.account_id), **self.who(context))
            await context.uow.commit()

        @handles(DeleteInvoice)
        async def delete_invoice(context: HandlerContext, command: DeleteInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.delete(await self.accounts.settings_of(context.account_id), reason=command.reason,
                           **self.who(context))
            await context.uow.commit()

        @handles(FinalizeInvoice)
        async def finalize_invoice(context: HandlerContext, command: FinalizeInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            account = await self.accounts.settings_of(context.account_id)
            invoice.request_finalization(account, series_key(context.account_id, account.number_format),
                                         **self.who(context))
            await context.uow.commit()

        @handles(NumberAllocated)
        async def number_allocated(context: HandlerContext, event: NumberAllocated) -> None:
            self.tenancy.check_key(context, event.series_key, "series")
            invoice = await self.load(context, event.invoice_id)
            auto_send = (await self.accounts.settings_of(context.account_id)).auto_send(self.links)
            if event.credit_note_id is not None:
                applied = invoice.issue_credit_note(event.credit_note_id, event.number, auto_send=auto_send,
                                                    **self.who(context))
            else:
                # Read, not changed: the balance's own writer takes from it (customer_balance.apply).
                available = await self.balances.available(context.account_id, invoice.customer.id, invoice.currency)
                applied = invoice.finalize(event.number, balance_available=available, links=self.links,
                                           auto_send=auto_send,
                                           **self.who(context))
            if applied:
                await context.uow.commit()

        @handles(NumberRejected)
        async def number_rejected(context: HandlerContext, event: NumberRejected) -> None:
            await self._refuse_finalization(context, event.invoice_id, event.reason,
                                            f"No number could be allocated: {event.message}",
                                            credit_note_id=event.credit_note_id)

        @self.consumer.when_dead_lettered(NumberAllocated)
        async def number_not_applied(context: HandlerContext, event: NumberAllocated) -> None:
            if event.credit_note_id is not None:
                # The number stays the credit note's in the ledger: a new create of the same credit
                # note id is given it again.
                await self._refuse_finalization(
                    context, event.invoice_id, "finalization_failed",
                    f"Number {event.number} was allocated to the credit note but could not be applied; it stays "
                    "reserved for it: create it again once the fault is fixed.", credit_note_id=event.credit_note_id)
                return
            await self._refuse_finalization(
                context, event.invoice_id, "finalization_failed",
                f"Number {event.number} was allocated but could not be applied; it stays reserved for this "
                "invoice: finalize again once the fault is fixed, or delete the draft to record it as a gap.",
                number=event.number,
            )

        @handles(RunInvoiceClock)
        async def run_clock(context: HandlerContext, command: RunInvoiceClock) -> None:
            invoice = await self.load(context, command.invoice_id)
            who = self.who(context)
            if command.at > who["now"] + CLOCK_SKEW:
                raise RuleViolation("nothing_due", f"The moment {command.at.isoformat()} has not come yet.")
            schedule = (await self.accounts.settings_of(context.account_id)).reminder_schedule
            invoice.run_clock(schedule, links=self.links, **{**who, "now": max(who["now"], command.at)})
            await context.uow.commit()

        @handles(SendInvoice)
        async def send_invoice(context: HandlerContext, command: SendInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.request_send(command, links=self.links, **self.who(context))
            await context.uow.commit()

        @handles(MailQueued)
        async def mail_queued(context: HandlerContext, event: MailQueued) -> None:
            invoice = await self.load(context, event.invoice_id)
            invoice.mail_progress("queued", event.mail_id, {"to": event.to}, **self.who(context))
            await context.uow.commit()

        @handles(MailDeferred)
        async def mail_deferred(context: HandlerContext, event: MailDeferred) -> None:
            invoice = await self.load(context, event.invoice_id)
            detail = event.model_dump(mode="json", include={"recipients", "attempt", "smtp_code", "diagnostic",
                                                            "next_attempt_at"})
            invoice.mail_progress("deferred", event.mail_id, detail, **self.who(context))
            await context.uow.commit()

        @handles(MailSent)
        async def mail_sent(context: HandlerContext, event: MailSent) -> None:
            invoice = await self.load(context, event.invoice_id)
            invoice.mail_delivered(event.mail_id, event.to, event.cc, event.sent_at, actor=context.envelope.actor,
                                   message_id=str(context.envelope.id))
            await context.uow.commit()

        @handles(MailBounced)
        async def mail_bounced(context: HandlerContext, event: MailBounced) -> None:
            await self._mail_failed(context, event, "bounced", "delivery_failed",
                                    f"The email bounced: {event.diagnostic}", {"recipients": event.recipients,
                                    "permanent": event.permanent, "diagnostic": event.diagnostic})

        @handles(MailDropped)
        async def mail_dropped(context: HandlerContext, event: MailDropped) -> None:
            reason, message = _MAIL_DROPPED[event.reason]
            await self._mail_failed(context, event, "dropped", reason, message,
                                    {"recipients": event.recipients, "reason": event.reason})

        @handles(PaymentMatched)
        async def payment_matched(context: HandlerContext, event: PaymentMatched) -> None:
            invoice = await self.load(context, event.invoice_id)
            payment = Payment(
                payment_id=event.payment_id, amount=event.amount, method=event.method, match=event.match,
                online=event.online, paid_on=event.paid_on, transaction_id=event.transaction_id,
            )
            auto_send = (await self.accounts.settings_of(context.account_id)).auto_send(self.links)
            if invoice.apply_payment(payment, event.currency, auto_send=auto_send, **self.who(context)):
                await context.uow.commit()

        @handles(PaymentRemoved)
        async def payment_removed(context: HandlerContext, event: PaymentRemoved) -> None:
            invoice = await self.load(context, event.invoice_id)
            if invoice.remove_payment(event.payment_id, **self.who(context)):
                await context.uow.commit()

        @handles(PaymentPending)
        async def payment_pending(context: HandlerContext, event: PaymentPending) -> None:
            invoice = await self.load(context, event.invoice_id)
            if invoice.announce_pending_payment(event, **self.who(context)):
                await context.uow.commit()

        @handles(MarkInvoicePaid)
        async def mark_paid(context: HandlerContext, command: MarkInvoicePaid) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.mark_paid(paid_on=command.paid_on, note=command.note, **self.who(context))
            await context.uow.commit()

        @handles(MarkInvoiceUnpaid)
        async def mark_unpaid(context: HandlerContext, command: MarkInvoiceUnpaid) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.mark_unpaid(reason=command.reason, **self.who(context))
            await context.uow.commit()

        @handles(VoidInvoice)
        async def void_invoice(context: HandlerContext, command: VoidInvoice) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.void(reason=command.reason, **self.who(context))
            await context.uow.commit()

        @handles(RotateHostedLink)
        async def rotate_hosted_link(context: HandlerContext, command: RotateHostedLink) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.rotate_hosted_link(reason=command.reason, links=self.links, **self.who(context))
            await context.uow.commit()

        @handles(MarkInvoiceUncollectible)
        async def mark_uncollectible(context: HandlerContext, command: MarkInvoiceUncollectible) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.mark_uncollectible(reason=command.reason, **self.who(context))
            await context.uow.commit()

        @handles(ApplyBalanceToInvoice)
        async def apply_balance(context: HandlerContext, command: ApplyBalanceToInvoice) -> None:
            self.tenancy.check_key(context, command.balance_key, "customer balance")
            invoice = await self.load(context, command.invoice_id)
            auto_send = (await self.accounts.settings_of(context.account_id)).auto_send(self.links)
            invoice.apply_balance(command.amount, command.movement_id, auto_send=auto_send, **self.who(context))
            await context.uow.commit()

        @handles(ReviseInvoice)
        async def revise_invoice(context: HandlerContext, command: ReviseInvoice) -> None:
            # The original is marked and the draft created in one commit (the draft written first).
            original = await self.load(context, command.invoice_id)
            # Read, not changed: a pending revision's draft deleted since leaves room for another.
            pending = original.revision_pending and await self.invoices.get(context.account_id,
                                                                            original.revision_pending)
            draft = original.start_revision(command.new_invoice_id, **self.who(context),
                                            pending_draft_gone=pending is None or pending.deleted)
            written = await context.uow.get_part(self.invoices, context.account_id, command.new_invoice_id)
            if written is not None and written.changed_by(context.change_id):
                # This message wrote the draft before a crash kept it from marking the original: the
                # draft is kept as written (and announced again), the original marked.
                await context.uow.commit(written, original)
                return
            await self._create(context, draft, revision_of=original)

        @handles(SettleRevisedInvoice)
        async def settle_revision(context: HandlerContext, command: SettleRevisedInvoice) -> None:
            original = await self.load(context, command.invoice_id)
            rule = (await self.accounts.settings_of(context.account_id)).correction_rule
            original.settle_by_revision(command.revision_id, command.revision_number, rule, **self.who(context))
            await context.uow.commit()

        @handles(CreateCreditNote)
        async def create_credit_note(context: HandlerContext, command: CreateCreditNote) -> None:
            invoice = await self.load(context, command.invoice_id)
            number_format = (await self.accounts.settings_of(context.account_id)).credit_note_series_format()
            if await self.invoices.credit_note_elsewhere(context.account_id, command.credit_note_id, invoice.id):
                raise RuleViolation("credit_note_exists", f"The credit note id {command.credit_note_id!r} is taken.")
            invoice.request_credit_note(command, series_key(context.account_id, number_format), number_format,
                                        **self.who(context))
            await context.uow.commit()

        @handles(SendCreditNote)
        async def send_credit_note(context: HandlerContext, command: SendCreditNote) -> None:
            invoice = await self.load(context, command.invoice_id)
            invoice.request_credit_note_send(command, links=self.links, **self.who(context))
            await context.uow.commit()

    # --- shared steps ---------------------------------------------------------------------------

    async def _create(self, context: HandlerContext, command: CreateInvoice, cloned_from: str | None = None,
                      revision_of: Invoice | None = None) -> None:
        """Create the invoice; a revision's original (`revision_of`) is changed too, written after it."""
        # An invoice this very command created is a redelivery: the unit of work republishes its
        # pending events instead (AlreadyHandled). Any other holder of the id keeps it.
        if await context.uow.get(self.invoices, context.account_id, command.invoice_id) is not None:
            raise RuleViolation("invoice_exists", f"The invoice id {command.invoice_id!r} is taken.")
        who = self.who(context)
        # The invoice's own rules first: a creation they refuse claims no quote.
        invoice = Invoice.create(command, context.account_id, cloned_from=cloned_from, revision_of=revision_of, **who)
        if command.quote_id and not await self.quotes.claim(context.account_id, command.quote_id, command.invoice_id,
                                                            who["now"]):
            raise RuleViolation("quote_already_invoiced", f"Quote {command.quote_id!r} already has an invoice.")
        context.uow.add(self.invoices, invoice)
        try:
            await context.uow.commit(*([invoice, revision_of] if revision_of else []))
        except DuplicateDocument:
            # A clone is keyed by its source, so a create of the same new id (in the same account)
            # may have won meanwhile.
            raise RuleViolation("invoice_exists", f"The invoice id {command.invoice_id!r} is taken.") from None

    async def _refuse_finalization(self, context: HandlerContext, invoice_id: str, reason: str, message: str,
                                   number: str | None = None, credit_note_id: str | None = None) -> None:
        """No number for the invoice's finalization, or for its credit note `credit_note_id`."""
        invoice = await self.load(context, invoice_id)
        if credit_note_id is not None:
            refused = invoice.credit_note_refused(credit_note_id, reason=reason, message=message, **self.who(context))
        else:
            refused = invoice.finalization_refused(reason=reason, message=message, number=number, **self.who(context))
        if refused:
            await context.uow.commit()

    async def _mail_failed(self, context: HandlerContext, event: MailBounced | MailDropped, outcome: str, reason: str,
                           message: str, detail: dict[str, Any]) -> None:
        invoice = await self.load(context, event.invoice_id)
        invoice.mail_failed(event.mail_id, outcome, detail, reason=reason, message=message, **self.who(context))
        await context.uow.commit()

