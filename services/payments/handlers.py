"""payments' subscribers: keep the read models of invoices and payee IBANs, reconcile bank
transactions (also those that came before the invoice they name), and answer payment commands.

Each handler first looks for work the same message already did (a redelivery after a crash) and
then answers exactly as the first time: the chassis gives the events the same ids, so consumers
drop the repeat.
"""

import dataclasses
import logging
from functools import partial

from chassis.consumer import HandlerContext
from chassis.service import Service
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
    PaymentMatched,
    PaymentRemoved,
    PaymentUnmatched,
    RecordPayment,
    RemovePayment,
)
from services.payments.adapters.accounts import PayeeIbans
from services.payments.adapters.invoices import InvoiceReadModel
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook, TransactionRecord
from services.payments.domain.matching import (
    AwaitingInvoice,
    Match,
    NoMatch,
    RemittanceReferences,
    match_transaction,
    names_of,
)
from services.payments.domain.model import BankTransaction, InvoiceView, Payment, PaymentRefused, check_payable
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

    async def remember_invoice(context: HandlerContext, event: InvoiceStateEvent) -> None:
        invoice = InvoiceView.model_validate(event.invoice, from_attributes=True)
        if not await invoices.remember(invoice):
            logger.info("stale invoice snapshot ignored", extra={"invoice_id": event.invoice_id})
        # Also after a stale or repeated snapshot: the rules read the stored invoice, and a
        # redelivery must answer again for the transactions it matched the first time.
        await match_waiting_transactions(context, invoice)

    for model in SNAPSHOT_EVENTS:
        consumer.handles(model)(remember_invoice)

    @consumer.handles(InvoiceDeleted)
    async def forget_invoice(context: HandlerContext, event: InvoiceDeleted) -> None:
        await invoices.forget(event.invoice_id)

    @consumer.handles(AccountConfigured)
    async def remember_payee_iban(context: HandlerContext, event: AccountConfigured) -> None:
        if iban := event.settings.get("payee_iban"):
            await account_ibans.remember(event.account_id, iban)

    async def match_waiting_transactions(context: HandlerContext, invoice: InvoiceView) -> None:
        """Transactions that came before an invoice they name, now that it is known: they match, or
        stay unmatched for the reason the rules now give, exactly as if they had come later."""
        message_id = str(context.envelope.id)
        names = names_of(invoice)
        if not names:
            return  # a draft: no transfer can name it yet
        for record in await transactions.naming(invoice.account_id, names, message_id):
            ended_before = record.rematched_in == message_id
            if not ended_before:
                outcome = await _outcome(record.transaction)
                if isinstance(outcome, AwaitingInvoice):
                    continue  # the invoice was deleted meanwhile: the transaction waits on
                record = _wait_ended(record, outcome, message_id)
            matched = record.matched_in == message_id
            payment = record.transaction.payment(record.invoice_id, "automatic") if matched else None
            announce = [context.emit(_matched(payment) if payment else _unmatched(record))]
            if not ended_before:
                await transactions.stop_waiting(record, announce)
            if payment:
                await payments.put(payment, message_id)
            transaction_id = record.transaction.transaction_id
            context.after_publish(partial(transactions.published, invoice.account_id, transaction_id, announce))

    @consumer.handles(BankTransactionReceived)
    async def reconcile(context: HandlerContext, event: BankTransactionReceived) -> None:
        message_id = str(context.envelope.id)
        record = await transactions.get(context.account_id, event.transaction_id)
        if record is not None and record.received_in != message_id:
            metrics.bank_transactions.labels("duplicate").inc()
            return
        first_time = record is None
        if first_time:
            transaction = BankTransaction(account_id=context.account_id, **event.model_dump())
            record = await _receipt(transaction, message_id)
        announce = [context.emit(_receipt_event(record))]
        if first_time:
            await transactions.add(record, announce)
            metrics.bank_transactions.labels("unmatched" if record.unmatched_reason else "matched").inc()
        if record.matched_in == message_id:
            await payments.put(record.transaction.payment(record.invoice_id, "automatic"), message_id)
        context.after_publish(lambda: transactions.published(context.account_id, event.transaction_id, announce))

    async def _receipt(transaction: BankTransaction, message_id: str) -> TransactionRecord:
        outcome = await _outcome(transaction)
        if isinstance(outcome, Match):
            return TransactionRecord(
                transaction, message_id, invoice_id=outcome.invoice.id, match="automatic", matched_in=message_id
            )
        names = RemittanceReferences.of(transaction.remittance_information).names
        return TransactionRecord(
            transaction,
            message_id,
            unmatched_reason=outcome.reason,
            names=sorted(names) if isinstance(outcome, AwaitingInvoice) else None,
        )

    async def _outcome(transaction: BankTransaction) -> Match | NoMatch:
        account_id = transaction.account_id
        candidates = await invoices.named_in(account_id, RemittanceReferences.of(transaction.remittance_information))
        payee_ibans = await account_ibans.of(account_id) | await invoices.payee_ibans(account_id)
        return match_transaction(transaction, candidates, payee_ibans)

    @consumer.handles(ApplyTransaction)
    async def apply_transaction(context: HandlerContext, command: ApplyTransaction) -> None:
        message_id = str(context.envelope.id)
        await owned_invoice(context, command.invoice_id)
        record = await transactions.get(context.account_id, command.transaction_id)
        if record is None:
            raise PaymentRefused("unknown_transaction", "The account received no bank transaction with this id.")
        transaction = record.transaction
        applied_before = record.matched_in == message_id
        if not applied_before:
            if record.invoice_id is not None and await _counts(context.account_id, transaction.payment_id):
                raise PaymentRefused(
                    "transaction_already_matched", f"The transaction pays {record.invoice_id} already."
                )
            check_payable(await invoices.get(command.invoice_id), context.account_id, transaction.currency)
        payment = transaction.payment(command.invoice_id, "applied")
        announce = [context.emit(_matched(payment))]
        if not applied_before and not await transactions.attribute(
            record, command.invoice_id, "applied", message_id, announce
        ):
            raise PaymentRefused("transaction_already_matched", "The transaction was matched meanwhile.")
        await payments.put(payment, message_id)
        context.after_publish(
            lambda: transactions.published(context.account_id, transaction.transaction_id, announce)
        )

    async def _counts(account_id: str, payment_id: str) -> bool:
        record = await payments.get(account_id, payment_id)
        return record is not None and record.counts

    async def owned_invoice(context: HandlerContext, invoice_id: str) -> None:
        """Payment commands are keyed by invoice: that is the aggregate whose owner must ask."""
        invoice = await invoices.get(invoice_id)
        if invoice is not None and invoice.account_id != context.account_id:
            raise PaymentRefused("account_mismatch", "The invoice belongs to another account.")

    @consumer.handles(RecordPayment)
    async def record_payment(context: HandlerContext, command: RecordPayment) -> None:
        message_id = str(context.envelope.id)
        payment = Payment.model_validate({**command.model_dump(), "account_id": context.account_id, "match": "manual"})
        record = await payments.get(context.account_id, command.payment_id)
        if record is None:
            check_payable(await invoices.get(command.invoice_id), context.account_id, command.currency)
            announce = [context.emit(_matched(payment))]
            await payments.add(payment, message_id, announce)
        elif record.recorded_in == message_id or (record.payment == payment and record.counts):
            # This command redelivered, or the same payment recorded again (a retry, a double
            # click): it counts once, and the answer says so again without recording anything.
            announce = [context.emit(_matched(payment))]
        else:
            raise PaymentRefused("payment_already_exists", "Another payment has this id; payment ids are not reused.")
        context.after_publish(lambda: payments.published(context.account_id, command.payment_id, announce))

    @consumer.handles(RemovePayment)
    async def remove_payment(context: HandlerContext, command: RemovePayment) -> None:
        message_id = str(context.envelope.id)
        await owned_invoice(context, command.invoice_id)
        record = await payments.get(context.account_id, command.payment_id)
        if record is None or record.payment.invoice_id != command.invoice_id:
            raise PaymentRefused("unknown_payment", "The invoice has no payment with this id.")
        if record.removed_in not in (None, message_id):
            raise PaymentRefused("payment_already_removed", "The payment was removed already.")
        payment = record.payment
        announce = [
            context.emit(
                PaymentRemoved(
                    invoice_id=payment.invoice_id,
                    payment_id=payment.payment_id,
                    amount=payment.amount,
                    currency=payment.currency,
                    reason=command.reason,
                )
            )
        ]
        if record.counts and not await payments.remove(payment, command.reason, message_id, announce):
            raise PaymentRefused("payment_already_removed", "The payment was removed meanwhile.")
        context.after_publish(lambda: payments.published(context.account_id, payment.payment_id, announce))


def _matched(payment: Payment) -> PaymentMatched:
    return PaymentMatched.model_validate(payment, from_attributes=True)


def _receipt_event(record: TransactionRecord) -> PaymentMatched | PaymentUnmatched:
    """What the receipt of a transaction announced: the automatic match, or why there was none."""
    if record.unmatched_reason is None:
        return _matched(record.transaction.payment(record.invoice_id, "automatic"))
    return _unmatched(record)


def _unmatched(record: TransactionRecord) -> PaymentUnmatched:
    return PaymentUnmatched.model_validate({**record.transaction.model_dump(), "reason": record.unmatched_reason})


def _wait_ended(record: TransactionRecord, outcome: Match | NoMatch, message_id: str) -> TransactionRecord:
    if isinstance(outcome, Match):
        return dataclasses.replace(
            record, invoice_id=outcome.invoice.id, match="automatic", matched_in=message_id, rematched_in=message_id
        )
    return dataclasses.replace(record, unmatched_reason=outcome.reason, rematched_in=message_id)
