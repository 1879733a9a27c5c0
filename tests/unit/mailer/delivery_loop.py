"""The mailer's delivery loop on the in-memory harness: the same BatchDelivery the service runs, on
the platform's mailer store and publisher, with a relay that keeps what it is handed and refuses
the addresses a test names. Its documents are stand-ins: rendering is the renderer's tests'."""

import email
import email.policy
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage, Message

from prometheus_client import CollectorRegistry

from documents.rendering import RenderFailed
from services.mailer.adapters.accounts import MailerAccounts
from services.mailer.adapters.mail_jobs import MailJobs
from services.mailer.adapters.pace import Paces
from services.mailer.adapters.suppressions import SuppressionList
from services.mailer.delivery import BatchDelivery
from services.mailer.domain.delivery import DeliveryReport, SmtpReply
from services.mailer.metrics import MailerMetrics
from services.mailer.notices import UndeliveredNotices
from services.mailer.settings import MailerSettings
from tests.unit.harness import Platform

USER_UNKNOWN = SmtpReply(550, "5.1.1 <ap@globex.example>: user unknown")


@dataclass
class Handed:
    at: float  # time.monotonic()
    message: Message
    sender: str
    recipients: list[str]


@dataclass
class Relay:
    """Stands in for SmtpRelay: accepts every recipient but the ones in `refuse`."""

    refuse: dict[str, SmtpReply] = field(default_factory=dict)
    handed: list[Handed] = field(default_factory=list)

    async def deliver(self, message: Message, *, sender: str, recipients: list[str]) -> DeliveryReport:
        self.handed.append(Handed(time.monotonic(), message, sender, list(recipients)))
        refused = {address: self.refuse[address] for address in recipients if address in self.refuse}
        return DeliveryReport(accepted=tuple(a for a in recipients if a not in refused), refused=refused)

    async def close(self) -> None:
        pass

    def to(self, address: str) -> list[EmailMessage]:
        """The messages handed for `address`, as its mailbox reads them."""
        return [email.message_from_bytes(handed.message.as_bytes(), policy=email.policy.default)
                for handed in self.handed if address in handed.recipients]


def delivery_loop(platform: Platform, relay: Relay, *, instance: str = "mailer-a", render_fails: bool = False,
                  **settings) -> BatchDelivery:
    store = platform.mailer.store
    options = {"kafka_security_protocol": "PLAINTEXT", "compose_processes": 0, "retry_base_seconds": 0,
               "instance": instance, **settings}
    metrics = MailerMetrics(CollectorRegistry())
    jobs, suppressions = MailJobs(store), SuppressionList(store)
    loop = BatchDelivery(platform.mailer.service, MailerSettings(**options), jobs, Paces(store), suppressions,
                         UndeliveredNotices(MailerAccounts(store), jobs, suppressions, metrics), relay, metrics)

    async def document(*_):
        if render_fails:
            raise RenderFailed("The document could not be rendered: the renderer is away.")
        return b"%PDF-1.7 stand-in"

    loop.renderer.document = document
    return loop


async def deliver_until_idle(loop: BatchDelivery, platform: Platform, rounds: int = 5) -> None:
    """Batches until none is due, each batch's events handed to the services that read them."""
    for _ in range(rounds):
        start = len(platform.records)
        await loop.deliver_due()
        for message in [record.message() for record in platform.records[start:]]:
            for name in platform.services:
                if platform.services[name].reads(message.topic):
                    await platform.redeliver(message, to=name)
        if not await loop.jobs.due(datetime.now(UTC), 1):
            return
