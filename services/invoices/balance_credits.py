"""What credits a customer's balance, read from the invoices service's own events (a process
manager): a credit note's balance and refund parts (`credit_note.issued`) and an invoice's
overpayment (`invoice.payment_applied`) each become one `customer_balance.credit`, keyed by the
balance, so the balance changes on its own partition and never from the invoice's.

Stateless: the command's id derives from the event's, and the balance takes each source once, so
an event delivered again credits nothing twice. Why events and not the invoice's own outbox: the
credit note and the payment already announce what the balance needs, and the balance follows
them without a change to the code that issues credit notes.
"""

from chassis.context import HandlerContext
from chassis.service import Service
from chassis.tenancy import TenantGuard
from contracts.messages.balances import CreditCustomerBalance, balance_key
from contracts.messages.credit_notes import CreditNoteIssued, CreditNoteSnapshot
from contracts.messages.invoices import InvoicePaymentApplied


def credit_of_credit_note(credit_note: CreditNoteSnapshot) -> CreditCustomerBalance | None:
    """What a credit note credits its customer: its balance part, and its refund part as owed."""
    customer_id = credit_note.customer.id
    if customer_id is None or not (credit_note.customer_balance_amount or credit_note.refund_amount):
        return None
    return CreditCustomerBalance(
        balance_key=balance_key(credit_note.account_id, customer_id, credit_note.currency), kind="credit_note",
        source_id=credit_note.id, invoice_id=credit_note.invoice_id, amount=credit_note.customer_balance_amount,
        refund_owed=credit_note.refund_amount,
    )


def credit_of_overpayment(event: InvoicePaymentApplied) -> CreditCustomerBalance | None:
    """The excess of the payment that paid an invoice more than it owed. Only the payment that
    settles an invoice can overpay it (a paid invoice takes no more), so its excess is this
    payment's, credited once under the invoice and the payment."""
    invoice = event.invoice
    excess = min(event.overpaid_amount, event.amount)
    if invoice.customer.id is None or excess <= 0:
        return None
    return CreditCustomerBalance(
        balance_key=balance_key(invoice.account_id, invoice.customer.id, invoice.currency), kind="overpayment",
        source_id=f"{invoice.id}/{event.payment_id}", invoice_id=invoice.id, amount=excess,
    )


def register(service: Service) -> None:
    consumer = service.consumer
    tenancy = TenantGuard(consumer.metrics)

    @consumer.handles(CreditNoteIssued)
    async def credit_note_issued(context: HandlerContext, event: CreditNoteIssued) -> None:
        tenancy.check(context, event.credit_note.account_id, "credit note")
        if (credit := credit_of_credit_note(event.credit_note)) is not None:
            context.emit(credit)

    @consumer.handles(InvoicePaymentApplied)
    async def payment_applied(context: HandlerContext, event: InvoicePaymentApplied) -> None:
        tenancy.check(context, event.invoice.account_id, "invoice snapshot")
        if (credit := credit_of_overpayment(event)) is not None:
            context.emit(credit)
