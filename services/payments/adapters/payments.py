"""Payments in the service's store, one document per account and payment id."""

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key
from services.payments.domain.payments import Payment


class PaymentBook(Repository[Payment]):
    model = Payment
    collection_name = "payments"
    keys = (Key("account_id", "text"), Key("invoice_id", "text"))
    indexes = (Index(("account_id", "invoice_id")),)

    async def of_invoice(self, account_id: str, invoice_id: str) -> list[Payment]:
        """Every payment recorded for the invoice, removed ones too, oldest first."""
        where = [Condition("account_id", "eq", account_id), Condition("invoice_id", "eq", invoice_id)]
        return sorted(await self.find(where), key=lambda payment: (payment.paid_on, payment.payment_id))
