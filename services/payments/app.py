"""The payments service: reconciles bank transactions with invoices, and records manual payments."""

from chassis.outbox import relay_pending
from chassis.service import build_service
from contracts.messages.payments import PaymentCommandRejected, PaymentMatched, PaymentRemoved, PaymentUnmatched
from services.payments import handlers
from services.payments.adapters.accounts import PayeeIbans
from services.payments.adapters.invoices import InvoiceReadModel
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook
from services.payments.metrics import PaymentsMetrics
from services.payments.settings import PaymentsSettings


def create_app(settings: PaymentsSettings | None = None):
    settings = settings or PaymentsSettings()
    service = build_service("payments", settings, rejection=PaymentCommandRejected)
    invoices = InvoiceReadModel(service.db)
    transactions = TransactionBook(service.db)
    payments = PaymentBook(service.db)
    handlers.register(
        service, invoices, PayeeIbans(service.db), transactions, payments, PaymentsMetrics(service.metrics.registry)
    )
    service.document_publications([PaymentMatched, PaymentRemoved, PaymentUnmatched, PaymentCommandRejected])

    @service.on_startup
    async def prepare() -> None:
        await invoices.ensure_indexes()
        await transactions.ensure_indexes()
        for collection in (transactions.collection, payments.collection):
            await relay_pending(collection, service.publisher)

    return service.asgi_app(description=__doc__)
