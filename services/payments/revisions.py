"""Payments follow an invoice's revision: when a finalized revision replaces an invoice
(`invoice.revised`), each payment applied to the original is moved to the revision and announced
for it (`payment.matched`), so payments' records and the invoices' amounts paid agree again: the
original (void, or credited) has none, the revision all of them.

Each payment is its own aggregate, a part of one commit (`UnitOfWork.get_part`); a redelivery
after a crash between their writes announces again those this message moved and moves the rest.
"""

from chassis.context import HandlerContext
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
        moved = []
        for payment_id in event.moved_payment_ids:
            # One moved by this message before a crash stopped the others is kept as it is and
            # announced again (get_part); the rest are moved.
            payment = await context.uow.get_part(payments, Payment.key(context.account_id, payment_id))
            if payment is not None and payment.move_to(event.revision_id):
                moved.append(payment)
        await context.uow.commit(*moved)
