"""The invoices service: the invoice lifecycle, its history, and the account's invoicing settings."""

import asyncio

from chassis.grants import integrator_grants
from chassis.http.api import ReadApi
from chassis.service import Service, build_service
from chassis.storage import Condition, Store
from contracts.messages.balances import (
    ApplyBalanceToInvoice,
    ApplyCustomerBalance,
    CreditCustomerBalance,
    CustomerBalanceChanged,
)
from contracts.messages.invoices import (
    AccountConfigured,
    HostedLinkRotated,
    InvoiceCommandRejected,
    InvoiceCreated,
    InvoiceDeleted,
    InvoiceFinalized,
    InvoiceMarkedUncollectible,
    InvoiceMarkedUnpaid,
    InvoicePaid,
    InvoicePastDue,
    InvoicePaymentApplied,
    InvoiceRevised,
    InvoiceSent,
    InvoiceUpdated,
    InvoiceVoided,
    QuoteInvoiced,
    QuoteReleased,
    RunInvoiceClock,
    SettleRevisedInvoice,
)
from contracts.messages.mail import SendCreditNoteMail, SendInvoiceMail, SendReminderMail
from contracts.messages.numbering import AllocateNumber
from documents.rendering import DocumentRenderer
from services.invoices import api, balance_api, credit_notes_api
from services.invoices.adapters.accounts import Accounts
from services.invoices.adapters.customer_balances import CustomerBalances
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.quote_links import QuoteLinks
from services.invoices.balance_handlers import CustomerBalanceHandlers
from services.invoices.clock import Clock
from services.invoices.domain.hosted_link import MIN_SECRET_LENGTH, HostedLinks
from services.invoices.handlers import InvoiceHandlers
from services.invoices.hosted_page import PREFIX, HostedInvoicePages
from services.invoices.metrics import InvoiceMetrics
from services.invoices.scheduler import ClockScheduler
from services.invoices.settings import InvoicesSettings


def create_app(settings: InvoicesSettings | None = None):
    settings = settings or InvoicesSettings()
    service, invoices, balances, links = assemble(settings)
    # One renderer (its worker, its cache, its time limit) for every PDF the service serves.
    renderer = DocumentRenderer(processes=1)
    read_api = ReadApi(service, description=api.__doc__)
    api.routes(read_api, invoices, links, renderer)
    balance_api.routes(read_api, balances)
    credit_notes_api.routes(read_api, invoices)
    # The hosted pages are public (their token is the key), so they stay outside the keyed API.
    pages = HostedInvoicePages(invoices, links, renderer)
    return read_api.serve_with(service.asgi_app(description=__doc__), public={PREFIX: pages})


def assemble(settings: InvoicesSettings,
             store: Store | None = None) -> tuple[Service, Invoices, CustomerBalances, HostedLinks]:
    """The service without its HTTP side: its consumer's handlers, background loops, startup hooks
    and publications, on `store` (by default the settings'). create_app serves it; the unit tests'
    harness drives the same on an in-memory store (the loops do not run there)."""
    service = build_service("invoices", settings, rejection=InvoiceCommandRejected, store=store)
    # Integrators' commands (invoices.commands.from.<name>) act for the accounts granted to them.
    integrator_grants(service)
    invoices = service.repository(Invoices)
    clock = Clock(settings.clock_offsets_file)
    balances = service.repository(CustomerBalances)
    links = settings.hosted_links()
    InvoiceHandlers(service, invoices, service.repository(Accounts), QuoteLinks(service.store, invoices), clock,
                    balances, links).register()
    CustomerBalanceHandlers(service, balances, clock).register()
    metrics = InvoiceMetrics(service.metrics.registry)
    service.background(ClockScheduler(service, invoices, clock, settings, metrics).tick_forever)
    service.document_publications([
        InvoiceCreated, InvoiceUpdated, InvoiceDeleted, InvoiceFinalized, InvoiceSent, InvoicePaymentApplied,
        InvoicePaid, InvoiceMarkedUnpaid, InvoiceVoided, InvoiceMarkedUncollectible, InvoicePastDue,
        HostedLinkRotated, AccountConfigured, InvoiceCommandRejected, AllocateNumber, SendInvoiceMail, SendCreditNoteMail,
        InvoiceRevised, SettleRevisedInvoice, SendReminderMail, RunInvoiceClock, QuoteInvoiced, QuoteReleased,
        CustomerBalanceChanged, CreditCustomerBalance, ApplyCustomerBalance, ApplyBalanceToInvoice,
    ])

    @service.on_startup
    async def list_invoices_stored_before_lists() -> None:
        # Their listing (and so their account key) is missing until they are stored again.
        await invoices.store_again([Condition("account_id", "eq", None)])

    @service.background
    async def count_invoices_by_status() -> None:
        while True:
            metrics.set_counts(await invoices.count_by_status())
            await asyncio.sleep(settings.status_gauge_interval_seconds)

    @service.on_startup
    async def require_the_hosted_link_secret() -> None:
        # Checked at start, not here, so that documents can be generated where no secret is set.
        if len(links.secret) < MIN_SECRET_LENGTH:
            raise RuntimeError(f"HOSTED_LINK_SECRET or HOSTED_LINK_SECRET_FILE is not set or shorter than "
                               f"{MIN_SECRET_LENGTH} characters: hosted page tokens are made with it (one "
                               "secret per deployment)")

    return service, invoices, balances, links
