"""Handing a message to the SMTP relay with aiosmtplib, and reading the relay's verdict."""

import asyncio
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPException,
    SMTPHeloError,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from services.mailer.domain.delivery import DeliveryReport, SmtpReply
from services.mailer.settings import MailerSettings

# Replies about our session with the relay, not about the message: a 5xx here means the relay
# is misconfigured, and must not bounce (and suppress) the customer's addresses.
_RELAY_PROBLEMS = (SMTPAuthenticationError, SMTPConnectResponseError, SMTPHeloError)


class SmtpRelay:
    def __init__(self, settings: MailerSettings) -> None:
        self.settings = settings

    async def deliver(self, message: EmailMessage, *, sender: str, recipients: list[str]) -> DeliveryReport:
        settings = self.settings
        try:
            # aiosmtplib's timeout is per command; the whole conversation must end within it too,
            # because the delivery claim's lease is derived from it.
            async with asyncio.timeout(settings.smtp_timeout_seconds):
                refused, _ = await aiosmtplib.send(
                    message,
                    sender=sender,
                    recipients=recipients,
                    hostname=settings.smtp_host,
                    port=settings.smtp_port,
                    username=settings.smtp_username or None,
                    password=settings.smtp_password or None,
                    start_tls=settings.smtp_starttls,
                    timeout=settings.smtp_timeout_seconds,
                )
        except SMTPRecipientsRefused as error:
            return DeliveryReport(refused={r.recipient: SmtpReply(r.code, r.message) for r in error.recipients})
        except _RELAY_PROBLEMS as error:
            return DeliveryReport.message_refused(recipients, SmtpReply(None, f"relay: {error.code} {error.message}"))
        except SMTPResponseException as error:
            return DeliveryReport.message_refused(recipients, SmtpReply(error.code, error.message))
        except TimeoutError:
            return DeliveryReport.message_refused(recipients, SmtpReply(None, "relay timed out"))
        except (SMTPException, OSError) as error:
            return DeliveryReport.message_refused(recipients, SmtpReply(None, f"relay unreachable: {error}"))
        return DeliveryReport(
            accepted=tuple(address for address in recipients if address not in refused),
            refused={address: SmtpReply(reply.code, reply.message) for address, reply in refused.items()},
        )
