"""payments' subscribers: keep the read models of invoices and payee IBANs, reconcile bank
transactions (also those that came before the invoice they name), and answer payment commands.

Each loads the aggregates the message changes through the unit of work, makes one call of the
reconciliation rules (services.payments.domain.reconciliation, which also says which aggregate is
written last and why) and commits them in that order.
"""

import logging

from chassis.context import HandlerContext
from chassis.messaging import Outgoing
from chassis.service import Service
from chassis.tenancy import TenantGuard
from contracts.messages.invoices import (
    AccountConfigured,
    InvoiceCreated,
    InvoiceDeleted,
    InvoiceFinalized,
    InvoiceMarkedUncollectible,
    InvoiceMarkedUnpaid,
    InvoicePaid,
    InvoicePastDue,
    InvoicePaymentApplied,
    InvoiceStateEvent,
    InvoiceUpdated,
    InvoiceVoided,
)
from contracts.messages.payments import (
    ApplyTransaction,
    BankTransactionPending,
    BankTransactionReceived,
    RecordPayment,
    RemovePayment,
)
from services.payments.adapters.accounts import PayeeIbans
from services.payments.adapters.invoices import InvoiceReadModel, Remembered
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook
from services.payments.domain import reconciliation
from services.payments.domain.matching import (
    AwaitingInvoice,
    Credit,
    Match,
    NoMatch,
    RemittanceReferences,
    match_transaction,
    names_of,
)
from services.payments.domain.model import InvoiceView, PaymentRefused, check_payable
from services.payments.domain.payments import Payment
from services.payments.domain.pending import PendingCredit
from services.payments.domain.transactions import BankTransaction
from services.payments.metrics import PaymentsMetrics

logger = logging.getLogger(__name__)

# The invoices events that carry the whole invoice after the change.
SNAPSHOT_EVENTS = (
    InvoiceCreated,
    InvoiceFinalized,
    InvoicePaymentApplied,
    InvoicePaid,
    InvoiceMarkedUnpaid,
    InvoiceVoided,
    InvoiceMarkedUncollectible,
    InvoiceUpdated,
    InvoicePastDue,
)


class PaymentHandlers:
    def __init__(self, service: Service, invoices: InvoiceReadModel, account_ibans: PayeeIbans,
                 transactions: TransactionBook, payments: PaymentBook, metrics: PaymentsMetrics,
                 pending_days: int) -> None:
        self.consumer = service.consumer
        self.invoices = invoices
        self.account_ibans = account_ibans
        self.transactions = transactions
        self.payments = payments
        self.metrics = metrics
        self.pending_days = pending_days
        self.tenancy = TenantGuard(service.consumer.metrics)

    def register(self) -> None:
        consumer = self.consumer
        for model in SNAPSHOT_EVENTS:
            consumer.handles(model)(self.remember_invoice)
        consumer.handles(InvoiceDeleted)(self.forget_invoice)
        consumer.handles(AccountConfigured)(self.remember_payee_iban)
        # The bank feed hears of every transaction: matched or unmatched, or refused (payment.rejected
        # naming the transaction id) when it breaks its schema or cannot be stored.
        consumer.answers_undecodable(BankTransactionReceived)
        consumer.when_dead_lettered(BankTransactionReceived)(self.transaction_not_stored)
        consumer.handles(BankTransactionReceived)(self.reconcile)
        consumer.answers_undecodable(BankTransactionPending)
        consumer.handles(BankTransactionPending)(self.announce_pending)
        consumer.handles(ApplyTransaction)(self.apply_transaction)
        consumer.handles(RecordPayment)(self.record_payment)
        consumer.handles(RemovePayment)(self.remove_payment)

    # --- read models ----------------------------------------------------------------------------

    async def remember_invoice(self, context: HandlerContext, event: InvoiceStateEvent) -> None:
        invoice = InvoiceView.model_validate(event.invoice, from_attributes=True)
        # Remembered under the snapshot's account, which must be the message's: another account's
        # snapshot changes nothing (and is counted as dropped).
        self.tenancy.check(context, invoice.account_id, "invoice snapshot")
        remembered = await self.invoices.remember(invoice)
        if not remembered.stored:
            # Normal for the events of one change (invoice.payment_applied and invoice.paid carry
            # the same version) and for redeliveries.
            logger.debug("snapshot no newer than the stored one", extra={"invoice_id": event.invoice_id})
        if invoice.payee_iban is not None:
            await self.account_ibans.remember(invoice.account_id, invoice.payee_iban)
        await self.match_waiting_transactions(context, invoice, remembered)

    async def forget_invoice(self, context: HandlerContext, event: InvoiceDeleted) -> None:
        await self.invoices.forget(context.account_id, event.invoice_id)

    async def remember_payee_iban(self, context: HandlerContext, event: AccountConfigured) -> None:
        self.tenancy.check(context, event.account_id, "configured account")
        if iban := event.settings.get("payee_iban"):
            await self.account_ibans.remember(event.account_id, iban)

    # --- reconciliation -------------------------------------------------------------------------

    async def match_waiting_transactions(self, context: HandlerContext, invoice: InvoiceView,
                                         remembered: Remembered) -> None:
        """Transactions that came before an invoice they name, now that it is known: they match, or
        stay unmatched for the reason the rules now give, exactly as if they had come later.

        Each is one aggregate of its own, so one that this message changed before a crash is
        passed over (its announcements published again), and the others are still changed.
        """
        message_id = str(context.envelope.id)
        names = names_of(invoice)
        if remembered.stored:
            # A newer snapshot means this message is handled for the first time, so it changed no
            # transaction yet. And a transaction waits only for names no stored invoice had (the
            # account's messages are handled in order), so only names new to the snapshot wake one.
            new_names = names - names_of(remembered.earlier) if remembered.earlier else names
            waking = await self.transactions.waiting_for(invoice.account_id, new_names) if new_names else []
        else:
            # Maybe a redelivery: the rules read the stored invoice, and the transactions the first
            # delivery changed are answered for again.
            waking = await self.transactions.naming(invoice.account_id, names, message_id) if names else []
        paid, woken = [], []
        for found in waking:
            if found.changed_by(message_id):
                context.republish(self.transactions, [Outgoing.from_document(e) for e in found.outbox], found.id)
                continue
            outcome = await self.outcome_for(found)
            if isinstance(outcome, AwaitingInvoice):
                continue  # the invoice was deleted meanwhile: the transaction waits on
            transaction = context.uow.attach(self.transactions, found)
            paid += self._join(context, reconciliation.wake(transaction, outcome, await self._made(context, transaction)))
            woken.append(transaction)
        await context.uow.commit(*paid, *woken)

    async def transaction_not_stored(self, context: HandlerContext, event: BankTransactionReceived) -> None:
        context.rejection("internal_error", "The bank transaction could not be stored; it was dead-lettered.")

    async def reconcile(self, context: HandlerContext, event: BankTransactionReceived) -> None:
        transaction = BankTransaction.received(context.account_id, event)
        if await context.uow.get(self.transactions, transaction.id) is not None:
            self.metrics.bank_transactions.labels("duplicate").inc()
            return
        context.uow.add(self.transactions, transaction)
        paid = reconciliation.receive(transaction, await self.outcome_for(transaction),
                                      await self._made(context, transaction))
        await context.uow.commit(*self._join(context, paid), transaction)
        self.metrics.bank_transactions.labels("unmatched" if transaction.unmatched_reason else "matched").inc()

    async def announce_pending(self, context: HandlerContext, event: BankTransactionPending) -> None:
        """A pending credit matched by the rules of a transfer announces `payment.pending`; nothing is stored."""
        credit = PendingCredit(context.account_id, event)
        announcement = credit.announcement(await self.outcome_for(credit), context.envelope.time, self.pending_days)
        self.metrics.pending_credits.labels("unmatched" if announcement is None else "matched").inc()
        if announcement is not None:
            context.emit(announcement)

    async def outcome_for(self, transaction: Credit) -> Match | NoMatch:
        account_id = transaction.account_id
        candidates = await self.invoices.named_in(account_id, RemittanceReferences.of(transaction.remittance_information))
        return match_transaction(transaction, candidates, await self.account_ibans.of(account_id))

    async def apply_transaction(self, context: HandlerContext, command: ApplyTransaction) -> None:
        invoice_ids = [share.invoice_id for share in command.split] or [command.invoice_id]
        for invoice_id in invoice_ids:
            await self.owned_invoice(context, invoice_id)
        transaction = await context.uow.get(self.transactions, BankTransaction.key(context.account_id,
                                                                                   command.transaction_id))
        if transaction is None:
            raise PaymentRefused("unknown_transaction", "The account received no bank transaction with this id.")
        paid = reconciliation.apply(transaction, command,
                                    [await self.invoices.get(context.account_id, i) for i in invoice_ids],
                                    await self._made(context, transaction, command.split), context.uow.message_id)
        await context.uow.commit(*self._join(context, paid), transaction)

    async def _made(self, context: HandlerContext, transaction: BankTransaction,
                    split: list | None = None) -> list[Payment]:
        """The payments the transaction made or is about to make, as stored: parts of its change."""
        found = [await context.uow.get_part(self.payments, Payment.key(transaction.account_id, payment_id))
                 for payment_id in transaction.payment_ids_with(split or [])]
        return [payment for payment in found if payment is not None]

    def _join(self, context: HandlerContext, paid: list[Payment]) -> list[Payment]:
        """The payments to write, the new ones added to the unit of work."""
        for payment in paid:
            if payment.version == 0:
                context.uow.add(self.payments, payment)
        return paid

    # --- payment commands -----------------------------------------------------------------------

    async def owned_invoice(self, context: HandlerContext, invoice_id: str) -> None:
        """Payment commands are keyed by invoice, looked up among the account's own. An id payments
        does not know (yet) is left to the rule that reads it; only a stored invoice of the account
        is ever read, so another account's answers as unknown."""
        invoice = await self.invoices.get(context.account_id, invoice_id)
        if invoice is not None and invoice.account_id != context.account_id:
            raise PaymentRefused("unknown_invoice", "The account has no invoice with this id.")

    async def record_payment(self, context: HandlerContext, command: RecordPayment) -> None:
        payment = Payment.recorded(context.account_id, command)
        recorded = await context.uow.get(self.payments, payment.id)
        if recorded is None:
            check_payable(await self.invoices.get(context.account_id, command.invoice_id), context.account_id,
                          command.currency)
            context.uow.add(self.payments, payment)
            await context.uow.commit()
        elif recorded.same_as(payment) and recorded.counts:
            # The same payment recorded again (a retry, a double click): it counts once, and the
            # answer says so again without recording anything.
            context.emit(recorded.matched())
        else:
            raise PaymentRefused("payment_already_exists", "Another payment has this id; payment ids are not reused.")

    async def remove_payment(self, context: HandlerContext, command: RemovePayment) -> None:
        await self.owned_invoice(context, command.invoice_id)
        payment = await context.uow.get(self.payments, Payment.key(context.account_id, command.payment_id))
        if payment is None or payment.invoice_id != command.invoice_id:
            raise PaymentRefused("unknown_payment", "The invoice has no payment with this id.")
        transaction = made = None
        if payment.transaction_id is not None:
            transaction = await context.uow.get_part(
                self.transactions, BankTransaction.key(context.account_id, payment.transaction_id))
        if transaction is not None:
            made = [await self.payments.get(Payment.key(context.account_id, payment_id))
                    for payment_id in transaction.payment_ids]
        reconciliation.remove(payment, command.reason, transaction, [p for p in made or [] if p is not None])
        await context.uow.commit(*filter(None, (transaction, payment)))
