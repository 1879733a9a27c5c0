"""payments' read API: the account's unmatched queue (each transaction with the reason the rules
gave), and the payments recorded for an invoice. Served from payments' own store."""

from datetime import date
from typing import Annotated

from fastapi import HTTPException, Query
from pydantic import BaseModel, Field

from chassis.http.api import ReadApi, refuses, shown
from chassis.http.pagination import Page
from chassis.storage import Condition
from contracts.reasons import REASONS, UnmatchedReason
from services.payments.adapters.invoices import InvoiceReadModel
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook, queue_position
from services.payments.domain.payments import Payment
from services.payments.domain.transactions import BankTransaction

UNMATCHED = "unmatched"  # the scope of the queue's cursors: it has no filter and one order


class UnmatchedTransaction(BaseModel):
    transaction_id: str
    iban: str
    amount: int
    currency: str
    booked_on: date
    remittance_information: str
    debtor_name: str
    debtor_iban: str | None
    reason: UnmatchedReason
    reason_text: str = Field(description="The rule behind the reason")
    waiting_for_invoice: bool = Field(description="It names an invoice payments does not know yet, and is "
                                                  "matched as soon as one by that name is finalized")


RecordedPayment = shown(Payment, name="RecordedPayment", doc="A payment recorded for the invoice")


class PaidTowards(BaseModel):
    invoice_id: str
    currency: str
    amount_paid: int = Field(description="The sum of the invoice's payments that count (not removed)")
    payments: int = Field(description="How many payments count")


class InvoicePayments(BaseModel):
    invoice_id: str
    data: list[RecordedPayment]


def unmatched(transaction: BankTransaction) -> UnmatchedTransaction:
    reason = transaction.unmatched_reason
    return UnmatchedTransaction(**transaction.model_dump(include=set(UnmatchedTransaction.model_fields)),
                                reason=reason, reason_text=REASONS[reason].rule,
                                waiting_for_invoice=transaction.waiting)


def recorded(payment: Payment) -> RecordedPayment:
    return RecordedPayment(**payment.model_dump(include=set(RecordedPayment.model_fields)))


def routes(api: ReadApi, transactions: TransactionBook, payments: PaymentBook, invoices: InvoiceReadModel) -> None:
    app, Account = api.app, api.Account

    @app.get("/v1/payments/unmatched", response_model=Page[UnmatchedTransaction], tags=["payments"],
             responses=refuses(400))
    async def unmatched_queue(account: Account, limit: Annotated[int, Query(ge=1, le=100)] = 25,
                              cursor: str | None = None) -> Page[UnmatchedTransaction]:
        """Transactions no invoice takes, oldest booking first, each with the reason why; a person
        applies one with `payment.apply`."""
        found = await transactions.unmatched(account, limit + 1,
                                             api.cursors.position(cursor, account, UNMATCHED) if cursor else "")
        page = api.cursors.page_of(found, limit, queue_position, account, UNMATCHED)
        return Page[UnmatchedTransaction](data=[unmatched(t) for t in page.data], has_more=page.has_more,
                                          next_cursor=page.next_cursor)

    @app.get("/v1/invoices/{invoice_id}/payments", response_model=InvoicePayments, tags=["payments"],
             responses=refuses(404))
    async def invoice_payments(account: Account, invoice_id: str) -> InvoicePayments:
        """Every payment recorded for the invoice, removed ones too (with the reason), oldest first."""
        invoice = await invoices.get(account, invoice_id)
        if invoice is None or invoice.account_id != account:
            raise HTTPException(404, "No such invoice.")
        return InvoicePayments(invoice_id=invoice_id,
                               data=[recorded(payment) for payment in await payments.of_invoice(account, invoice_id)])

    @app.get("/v1/payments/paid", response_model=list[PaidTowards], tags=["payments"])
    async def paid_towards_invoices(account: Account) -> list[PaidTowards]:
        """What payments' own records count towards each of the account's invoices (every invoice
        with a payment that counts, by id), for `invoicing audit` to compare with the invoices."""
        paid: dict[str, PaidTowards] = {}
        for payment in await payments.find([Condition("account_id", "eq", account)]):
            if payment.counts:
                entry = paid.setdefault(payment.invoice_id, PaidTowards(invoice_id=payment.invoice_id,
                                                                        currency=payment.currency,
                                                                        amount_paid=0, payments=0))
                entry.amount_paid += payment.amount
                entry.payments += 1
        return [paid[invoice_id] for invoice_id in sorted(paid)]
