"""payments' subscribers: keep the read models of invoices and payee IBANs, reconcile bank
transactions (also those that came before the invoice they name), and answer payment commands.

A bank transaction and the payment its match makes are two aggregates. The payment is written
first and announces nothing; the transaction is written last and carries the events. So a
redelivery that finds the transaction changed by its message (AlreadyHandled) knows both were
written, and one that finds only the payment changed (a crash came between the two writes)
leaves the payment and completes the transaction.
"""

import logging

from chassis.context import HandlerContext
from chassis.messaging import Outgoing
from chassis.service import Service
from chassis.tenancy import TenantGuard
from chassis.unit_of_work import AlreadyHandled
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
    BankTransactionReceived,
    RecordPayment,
    RemovePayment,
)
from services.payments.adapters.accounts import PayeeIbans
from services.payments.adapters.invoices import InvoiceReadModel, Remembered
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook
from services.payments.domain.matching import (
    AwaitingInvoice,
    Match,
    NoMatch,
    RemittanceReferences,
    match_transaction,
    names_of,
)
from services.payments.domain.model import InvoiceView, PaymentRefused, check_payable
from services.payments.domain.payments import Payment
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

def register(
    service: Service,
    invoices: InvoiceReadModel,
    account_ibans: PayeeIbans,
    transactions: TransactionBook,
    payments: PaymentBook,
    metrics: PaymentsMetrics,
) -> None:
    consumer = service.consumer
    tenancy = TenantGuard(consumer.metrics)

    async def remember_invoice(context: HandlerContext, event: InvoiceStateEvent) -> None:
        invoice = InvoiceView.model_validate(event.invoice, from_attributes=True)
        # Remembered under the snapshot's account, which must be the message's: another account's
        # snapshot changes nothing (and is counted as dropped).
        tenancy.check(context, invoice.account_id, "invoice snapshot")
        remembered = await invoices.remember(invoice)
        if not remembered.stored:
            # Normal for the events of one change (invoice.payment_applied and invoice.paid carry
            # the same version) and for redeliveries.
            logger.debug("snapshot no newer than the stored one", extra={"invoice_id": event.invoice_id})
        if invoice.payee_iban is not None:
            await account_ibans.remember(invoice.account_id, invoice.payee_iban)
        await match_waiting_transactions(context, invoice, remembered)

    for model in SNAPSHOT_EVENTS:
        consumer.handles(model)(remember_invoice)

    @consumer.handles(InvoiceDeleted)
    async def forget_invoice(context: HandlerContext, event: InvoiceDeleted) -> None:
        await invoices.forget(context.account_id, event.invoice_id)

    @consumer.handles(AccountConfigured)
    async def remember_payee_iban(context: HandlerContext, event: AccountConfigured) -> None:
        tenancy.check(context, event.account_id, "configured account")
        if iban := event.settings.get("payee_iban"):
            await account_ibans.remember(event.account_id, iban)

    async def match_waiting_transactions(context: HandlerContext, invoice: InvoiceView,
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
            waking = await transactions.waiting_for(invoice.account_id, new_names) if new_names else []
        else:
            # Maybe a redelivery: the rules read the stored invoice, and the transactions the first
            # delivery changed are answered for again.
            waking = await transactions.naming(invoice.account_id, names, message_id) if names else []
        for found in waking:
            if found.changed_by(message_id):
                context.republish(transactions, [Outgoing.from_document(e) for e in found.outbox], found.id)
                continue
            outcome = await outcome_for(found)
            if isinstance(outcome, AwaitingInvoice):
                continue  # the invoice was deleted meanwhile: the transaction waits on
            if isinstance(outcome, Match):
                await settle(context, found.payment(outcome.invoice.id, "automatic"))
            transaction = await context.uow.get(transactions, found.id)
            transaction.end_wait(outcome)
        await context.uow.commit()

    # The bank feed hears of every transaction: matched or unmatched, or refused (payment.rejected
    # naming the transaction id) when it breaks its schema or cannot be stored.
    consumer.answers_undecodable(BankTransactionReceived)

    @consumer.when_dead_lettered(BankTransactionReceived)
    async def transaction_not_stored(context: HandlerContext, event: BankTransactionReceived) -> None:
        context.rejection("internal_error", "The bank transaction could not be stored; it was dead-lettered.")

    @consumer.handles(BankTransactionReceived)
    async def reconcile(context: HandlerContext, event: BankTransactionReceived) -> None:
        transaction = BankTransaction.received(context.account_id, event)
        if await context.uow.get(transactions, transaction.id) is not None:
            metrics.bank_transactions.labels("duplicate").inc()
            return
        outcome = await outcome_for(transaction)
        if isinstance(outcome, Match):
            await settle(context, transaction.payment(outcome.invoice.id, "automatic"))
        transaction.reconcile(outcome)
        context.uow.add(transactions, transaction)
        await context.uow.commit()
        metrics.bank_transactions.labels("unmatched" if transaction.unmatched_reason else "matched").inc()

    async def outcome_for(transaction: BankTransaction) -> Match | NoMatch:
        account_id = transaction.account_id
        candidates = await invoices.named_in(account_id, RemittanceReferences.of(transaction.remittance_information))
        return match_transaction(transaction, candidates, await account_ibans.of(account_id))

    async def settle(context: HandlerContext, payment: Payment) -> None:
        """The payment a transaction makes, put in the unit of work ahead of the transaction."""
        try:
            recorded = await context.uow.get(payments, payment.id)
        except AlreadyHandled:
            return  # written by this message before a crash came between it and the transaction
        if recorded is None:
            context.uow.add(payments, payment)
        else:
            recorded.count_again(payment)

    @consumer.handles(ApplyTransaction)
    async def apply_transaction(context: HandlerContext, command: ApplyTransaction) -> None:
        invoice_ids = [share.invoice_id for share in command.split] or [command.invoice_id]
        for invoice_id in invoice_ids:
            await owned_invoice(context, invoice_id)
        key = BankTransaction.key(context.account_id, command.transaction_id)
        # Read to decide; loaded through the unit of work after its payments (see the module's doc).
        found = await transactions.get(key)
        if found is None:
            raise PaymentRefused("unknown_transaction", "The account received no bank transaction with this id.")
        if found.changed_by(str(context.envelope.id)):
            raise AlreadyHandled(transactions, found)
        made = [await payments.get(Payment.key(context.account_id, pid)) for pid in found.payment_ids]
        found.check_applicable(
            [await invoices.get(context.account_id, i) for i in invoice_ids], any(p is not None and p.counts for p in made), command.split
        )
        for payment in found.applied_payments(command.invoice_id, command.split):
            await settle(context, payment)
        transaction = await context.uow.get(transactions, key)
        transaction.apply_to(command.invoice_id, command.split)
        await context.uow.commit()

    async def owned_invoice(context: HandlerContext, invoice_id: str) -> None:
        """Payment commands are keyed by invoice, looked up among the account's own. An id payments
        does not know (yet) is left to the rule that reads it; only a stored invoice of the account
        is ever read, so another account's answers as unknown."""
        invoice = await invoices.get(context.account_id, invoice_id)
        if invoice is not None and invoice.account_id != context.account_id:
            raise PaymentRefused("unknown_invoice", "The account has no invoice with this id.")

    @consumer.handles(RecordPayment)
    async def record_payment(context: HandlerContext, command: RecordPayment) -> None:
        payment = Payment.recorded(context.account_id, command)
        recorded = await context.uow.get(payments, payment.id)
        if recorded is None:
            check_payable(await invoices.get(context.account_id, command.invoice_id), context.account_id,
                          command.currency)
            context.uow.add(payments, payment)
            await context.uow.commit()
        elif recorded.same_as(payment) and recorded.counts:
            # The same payment recorded again (a retry, a double click): it counts once, and the
            # answer says so again without recording anything.
            context.emit(recorded.matched())
        else:
            raise PaymentRefused("payment_already_exists", "Another payment has this id; payment ids are not reused.")

    @consumer.handles(RemovePayment)
    async def remove_payment(context: HandlerContext, command: RemovePayment) -> None:
        await owned_invoice(context, command.invoice_id)
        payment = await context.uow.get(payments, Payment.key(context.account_id, command.payment_id))
        if payment is None or payment.invoice_id != command.invoice_id:
            raise PaymentRefused("unknown_payment", "The invoice has no payment with this id.")
        payment.remove(command.reason)
        await context.uow.commit()
