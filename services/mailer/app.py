"""The mailer service: invoice mails queued, sent in rate-limited batches, retried, bounced, suppressed."""

from chassis.service import Service, build_service
from chassis.storage import Store
from contracts.messages.mail import (
    AddressUnsuppressed,
    MailBounced,
    MailCommandRejected,
    MailDropped,
    MailPreviewed,
    MailQueued,
    MailSent,
)
from services.mailer import handlers
from services.mailer.adapters.accounts import MailerAccounts
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.adapters.pace import Paces
from services.mailer.adapters.smtp import SmtpRelay
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.delivery import BatchDelivery
from services.mailer.metrics import MailerMetrics
from services.mailer.notices import UndeliveredNotices
from services.mailer.settings import MailerSettings


def create_app(settings: MailerSettings | None = None):
    settings = settings or MailerSettings()
    return assemble(settings).asgi_app(description=__doc__)


def assemble(settings: MailerSettings, store: Store | None = None) -> Service:
    """The service: its consumer's handlers, delivery loop, startup hook and publications, on
    `store` (by default the settings'). create_app serves it; the unit tests' harness drives the
    same on an in-memory store (the delivery loop does not run there)."""
    service = build_service("mailer", settings, rejection=MailCommandRejected, store=store)
    jobs = service.repository(MailJobs)
    suppressions = service.repository(SuppressionList)
    metrics = MailerMetrics(service.metrics.registry)
    notices = UndeliveredNotices(service.repository(MailerAccounts), jobs, suppressions, metrics)
    handlers.register(service, service.repository(MailerAccounts), jobs, suppressions, notices, metrics)
    delivery = BatchDelivery(service, settings, jobs, service.repository(Paces), suppressions, notices,
                             SmtpRelay(settings), metrics)
    service.background(delivery.deliver_in_batches)
    service.document_publications([MailQueued, MailSent, MailBounced, MailDropped, MailPreviewed, AddressUnsuppressed,
                                   MailCommandRejected])
    # The outbox relay runs before this hook, so a released job is the delivery loop's again.
    service.on_startup(delivery.release_claims_of_earlier_runs)
    return service
