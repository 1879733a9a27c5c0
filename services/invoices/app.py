"""The invoices service: the invoice lifecycle, its history, and the account's invoicing settings."""

import asyncio

from chassis.grants import integrator_grants
from chassis.http.api import ReadApi
from chassis.service import build_service
from chassis.storage import Condition
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
    InvoiceSent,
    InvoiceUpdated,
    InvoiceVoided,
    RunInvoiceClock,
)
from contracts.messages.mail import SendInvoiceMail, SendReminderMail
from contracts.messages.numbering import AllocateNumber
from services.invoices import api, credit_notes_api
from services.invoices.adapters.accounts import Accounts
from services.invoices.adapters.invoices import Invoices
from services.invoices.adapters.quote_links import QuoteLinks
from services.invoices.clock import Clock
from services.invoices.handlers import InvoiceHandlers
from services.invoices.hosted_page import PREFIX, HostedInvoicePages
from services.invoices.metrics import InvoiceMetrics
from services.invoices.scheduler import ClockScheduler
from services.invoices.settings import InvoicesSettings


def create_app(settings: InvoicesSettings | None = None):
    settings = settings or InvoicesSettings()
    service = build_service("invoices", settings, rejection=InvoiceCommandRejected)
    # Integrators' commands (invoices.commands.from.<name>) act for the accounts granted to them.
    integrator_grants(service)
    invoices = service.repository(Invoices)
    clock = Clock(settings.clock_offsets_file)
    InvoiceHandlers(service, invoices, service.repository(Accounts), QuoteLinks(service.store), clock).register()
    metrics = InvoiceMetrics(service.metrics.registry)
    service.background(ClockScheduler(service, invoices, clock, settings, metrics).tick_forever)
    service.document_publications([
        InvoiceCreated, InvoiceUpdated, InvoiceDeleted, InvoiceFinalized, InvoiceSent, InvoicePaymentApplied,
        InvoicePaid, InvoiceMarkedUnpaid, InvoiceVoided, InvoiceMarkedUncollectible, InvoicePastDue,
        HostedLinkRotated, AccountConfigured, InvoiceCommandRejected, AllocateNumber, SendInvoiceMail,
        SendReminderMail, RunInvoiceClock,
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

    read_api = ReadApi(service, description=api.__doc__)
    api.routes(read_api, invoices)
    credit_notes_api.routes(read_api, invoices)
    # The hosted pages are public (their token is the key), so they stay outside the keyed API.
    return read_api.serve_with(service.asgi_app(description=__doc__), public={PREFIX: HostedInvoicePages(invoices)})
