"""Payments in the service's store, one document per account and payment id."""

from chassis.repository import Repository
from services.payments.domain.payments import Payment


class PaymentBook(Repository[Payment]):
    model = Payment
    collection_name = "payments"
