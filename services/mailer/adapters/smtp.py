"""Handing a message to the SMTP relay with aiosmtplib, and reading the relay's verdict.

Connections are kept open between messages: connecting, EHLO (STARTTLS, AUTH) and QUIT for
every message cost more than the message itself. There is at most one idle connection per
delivery in flight (MAILER_CONCURRENCY); one leaves the pool whenever something may have left it
unusable (a timeout, a lost connection, a failed login), and the next message opens a new one.

A message is serialized once (adapters.wire), before its first connection is tried, and handed to
aiosmtplib's sendmail as bytes.
"""

import asyncio
from email.message import Message

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPException,
    SMTPHeloError,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from services.mailer.adapters.wire import wire_bytes
from services.mailer.domain.delivery import DeliveryReport, SmtpReply
from services.mailer.settings import MailerSettings

# Replies about our session with the relay, not about the message: a 5xx here means the relay
# is misconfigured, and must not bounce (and suppress) the customer's addresses.
_RELAY_PROBLEMS = (SMTPAuthenticationError, SMTPConnectResponseError, SMTPHeloError)
# The relay refused this message or some of its recipients; aiosmtplib then resets the
# transaction (RSET), so the connection is ready for the next message.
_REFUSALS = (SMTPRecipientsRefused, SMTPResponseException)


class _ClosedWhileIdle(SMTPServerDisconnected):
    """The relay had closed the connection before this transaction began (on a kept connection:
    an idle timeout, a restart): nothing of the message reached it, so a new connection may
    send it."""


class _Connection(aiosmtplib.SMTP):
    async def mail(self, *args, **kwargs):
        try:
            return await super().mail(*args, **kwargs)
        except SMTPServerDisconnected as error:
            raise _ClosedWhileIdle(str(error)) from error

    async def rset(self, *args, **kwargs):
        # aiosmtplib resets after a refusal and ignores a reset the relay refuses; a transaction
        # left open would make the next message's MAIL fail, so such a connection is not kept.
        try:
            return await super().rset(*args, **kwargs)
        except SMTPResponseException:
            self.close()
            raise


class SmtpRelay:
    def __init__(self, settings: MailerSettings) -> None:
        self.settings = settings
        self._idle: list[_Connection] = []

    async def deliver(self, message: Message, *, sender: str, recipients: list[str]) -> DeliveryReport:
        try:
            # aiosmtplib's timeout is per command; the whole conversation must end within it too,
            # because the delivery claim's lease is derived from it.
            async with asyncio.timeout(self.settings.smtp_timeout_seconds):
                refused, _ = await self._send(wire_bytes(message), sender, recipients)
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

    async def close(self) -> None:
        """Say goodbye on the idle connections (the ones in use close when their message is done)."""
        idle, self._idle = self._idle, []
        for connection in idle:
            await self._quit(connection)

    async def _send(self, message: bytes, sender: str, recipients: list[str]):
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_connected:
                continue  # the relay closed it while idle, and we noticed
            try:
                return await self._transact(connection, message, sender, recipients)
            except _ClosedWhileIdle:
                continue  # the relay closed it while idle, and we noticed only now
        connection = _Connection(
            hostname=self.settings.smtp_host,
            port=self.settings.smtp_port,
            username=self.settings.smtp_username or None,
            password=self.settings.smtp_password or None,
            start_tls=self.settings.smtp_starttls,
            timeout=self.settings.smtp_timeout_seconds,
        )
        try:
            await connection.connect()
        except BaseException:
            connection.close()
            raise
        return await self._transact(connection, message, sender, recipients)

    async def _transact(self, connection: _Connection, message: bytes, sender: str, recipients: list[str]):
        """Send one message over the connection, and keep the connection if it is still usable."""
        try:
            # An envelope address with a domain outside ASCII goes as it is, as send_message sent it.
            utf8 = [] if sender.isascii() and all(map(str.isascii, recipients)) else ["SMTPUTF8"]
            result = await connection.sendmail(sender, recipients, message, mail_options=utf8)
        except _RELAY_PROBLEMS:
            connection.close()
            raise
        except _REFUSALS:
            self._keep(connection)
            raise
        except BaseException:
            # A timeout or a lost connection leaves the conversation in an unknown state.
            connection.close()
            raise
        self._keep(connection)
        return result

    def _keep(self, connection: _Connection) -> None:
        if connection.is_connected and len(self._idle) < self.settings.concurrency:
            self._idle.append(connection)
        else:
            connection.close()

    async def _quit(self, connection: _Connection) -> None:
        try:
            async with asyncio.timeout(self.settings.smtp_timeout_seconds):
                await connection.quit()
        except (SMTPException, OSError, TimeoutError):
            pass  # the relay forgets a session that ends without goodbye too
        finally:
            connection.close()
