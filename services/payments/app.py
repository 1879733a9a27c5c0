"""The payments service: reconciles bank transactions with invoices, and records manual payments."""

from chassis.grants import integrator_grants
from chassis.http.api import ReadApi
from chassis.service import Service, build_service
from chassis.storage import Condition, Store
from contracts.messages.payments import (
    PaymentCommandRejected,
    PaymentMatched,
    PaymentPending,
    PaymentRemoved,
    PaymentUnmatched,
)
from services.payments import api, revisions
from services.payments.adapters.accounts import PayeeIbans
from services.payments.adapters.invoices import InvoiceReadModel
from services.payments.adapters.payments import PaymentBook
from services.payments.adapters.transactions import TransactionBook
from services.payments.handlers import PaymentHandlers
from services.payments.metrics import PaymentsMetrics
from services.payments.settings import PaymentsSettings


def create_app(settings: PaymentsSettings | None = None):
    settings = settings or PaymentsSettings()
    service, transactions, payments, invoices = assemble(settings)
    read_api = ReadApi(service, description=api.__doc__)
    api.routes(read_api, transactions, payments, invoices)
    return read_api.serve_with(service.asgi_app(description=__doc__))


def assemble(settings: PaymentsSettings, store: Store | None = None
             ) -> tuple[Service, TransactionBook, PaymentBook, InvoiceReadModel]:
    """The service without its HTTP side: its consumer's handlers, startup hooks and publications,
    on `store` (by default the settings'). create_app serves it; the unit tests' harness drives the
    same on an in-memory store."""
    service = build_service("payments", settings, rejection=PaymentCommandRejected,
                            # A transfer and the invoice it names must meet: docs/operating.md, "Messages".
                            in_order_per="account", store=store)
    # Integrators' commands and transactions (<topic>.from.<name>) act for the accounts granted to them.
    integrator_grants(service)
    invoices, transactions, payments = (InvoiceReadModel(service.store), service.repository(TransactionBook),
                                        service.repository(PaymentBook))
    PaymentHandlers(service, invoices, PayeeIbans(service.store), transactions, payments,
                    PaymentsMetrics(service.metrics.registry), settings.payment_pending_days).register()
    revisions.register(service, invoices, payments)
    service.document_publications([PaymentMatched, PaymentPending, PaymentRemoved, PaymentUnmatched,
                                   PaymentCommandRejected])

    @service.on_startup
    async def read_what_was_stored_before_reads() -> None:
        # Their account key (and a transaction's place in the unmatched queue) is missing until
        # they are stored again.
        for repository in (transactions, payments):
            await repository.store_again([Condition("account_id", "eq", None)])

    return service, transactions, payments, invoices
