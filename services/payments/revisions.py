"""Payments follow an invoice's revision: when a finalized revision replaces an invoice
(`invoice.revised`), each payment applied to the original is moved to the revision and announced
for it (`payment.matched`), so payments' records and the invoices' amounts paid agree again: the
original (void, or credited) has none, the revision all of them.

Each payment is its own aggregate, changed through the unit of work in one commit; a redelivery
after a crash between their writes announces again those this message moved and moves the rest.
"""

from chassis.context import HandlerContext
from chassis.messaging import Outgoing
from chassis.service import Service
from chassis.tenancy import TenantGuard
from contracts.messages.invoices import InvoiceRevised
from services.payments.adapters.invoices import InvoiceReadModel
from services.payments.adapters.payments import PaymentBook
from services.payments.domain.model import InvoiceView
from services.payments.domain.payments import Payment


def register(service: Service, invoices: InvoiceReadModel, payments: PaymentBook) -> None:
    consumer = service.consumer
    tenancy = TenantGuard(consumer.metrics)

    @consumer.handles(InvoiceRevised)
    async def move_payments_to_revision(context: HandlerContext, event: InvoiceRevised) -> None:
        tenancy.check(context, event.invoice.account_id, "invoice snapshot")
        await invoices.remember(InvoiceView.model_validate(event.invoice, from_attributes=True))
        message_id = str(context.envelope.id)
        for payment_id in event.moved_payment_ids:
            payment = await payments.get(Payment.key(context.account_id, payment_id))
            if payment is None:
                continue
            if payment.changed_by(message_id):
                # Moved by this message before a crash stopped the others: announce it again, move the rest.
                context.republish(payments, [Outgoing.from_document(entry) for entry in payment.outbox], payment.id)
                continue
            context.uow.attach(payments, payment).move_to(event.revision_id)
        await context.uow.commit()
