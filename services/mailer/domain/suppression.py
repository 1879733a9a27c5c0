"""The suppression list's entries: per account, an address that bounced permanently.

Addresses are compared case-insensitively: relays treat local parts that way in practice, and
a customer retyping an address in capitals must not get past a known-dead mailbox.
"""

from datetime import datetime

from chassis.aggregate import Aggregate
from services.mailer.domain.delivery import SmtpReply


class Suppression(Aggregate):
    account_id: str
    address: str
    mail_id: str
    smtp_code: int | None
    diagnostic: str
    suppressed_at: datetime

    @staticmethod
    def entry_id(account_id: str, address: str) -> str:
        return f"{account_id}/{address.lower()}"

    @classmethod
    def of(cls, account_id: str, address: str, mail_id: str, reply: SmtpReply, now: datetime) -> "Suppression":
        """The address, as the mail that bounced spelt it."""
        return cls(id=cls.entry_id(account_id, address), account_id=account_id, address=address, mail_id=mail_id,
                   smtp_code=reply.code, diagnostic=reply.text, suppressed_at=now)
