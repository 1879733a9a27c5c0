"""The suppression list's entries: per account, an address that bounced permanently.

Addresses are compared case-insensitively: relays treat local parts that way in practice, and
a customer retyping an address in capitals must not get past a known-dead mailbox.

An entry is never deleted: lifting a suppression (mail.unsuppress) and suppressing the address
again are steps of its history, so the account can see when and why an address was suppressed
(which mail bounced, with which diagnostic) and who lifted it, with which reason.
"""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from chassis.aggregate import Aggregate
from contracts.messages.mail import AddressUnsuppressed
from services.mailer.domain.delivery import SmtpReply


class SuppressionStep(BaseModel):
    action: Literal["suppressed", "lifted"]
    at: datetime
    mail_id: str | None = None  # suppressed: the mail that bounced
    smtp_code: int | None = None
    diagnostic: str = ""
    by: str | None = None  # lifted: the actor of the command
    reason: str = ""


class Suppression(Aggregate):
    account_id: str
    address: str
    # The latest suppression (kept while lifted: what the history's last step says).
    mail_id: str
    smtp_code: int | None
    diagnostic: str
    suppressed_at: datetime
    suppressed: bool = True
    history: list[SuppressionStep] = []

    @staticmethod
    def entry_id(account_id: str, address: str) -> str:
        return f"{account_id}/{address.lower()}"

    @classmethod
    def of(cls, account_id: str, address: str, mail_id: str, reply: SmtpReply, now: datetime) -> "Suppression":
        """The address, as the mail that bounced spelt it."""
        entry = cls(id=cls.entry_id(account_id, address), account_id=account_id, address=address, mail_id=mail_id,
                    smtp_code=reply.code, diagnostic=reply.text, suppressed_at=now, suppressed=False)
        entry.suppress(mail_id, reply, now)
        return entry

    def suppress(self, mail_id: str, reply: SmtpReply, now: datetime) -> bool:
        """The address bounced for good on `mail_id`; False when it is suppressed already (the first
        bounce is the one worth keeping)."""
        if self.suppressed:
            return False
        self.suppressed, self.mail_id, self.smtp_code, self.diagnostic, self.suppressed_at = (
            True, mail_id, reply.code, reply.text, now)
        self.history = [*self.history, SuppressionStep(action="suppressed", at=now, mail_id=mail_id,
                                                       smtp_code=reply.code, diagnostic=reply.text)]
        return True

    def lift(self, *, by: str, reason: str, now: datetime) -> None:
        """The account's next mails to the address are tried again. Requires `suppressed`."""
        self.suppressed = False
        self.history = [*self.history, SuppressionStep(action="lifted", at=now, by=by, reason=reason)]
        self.record(AddressUnsuppressed(address=self.address, suppressed_at=self.suppressed_at, unsuppressed_at=now,
                                        reason=reason, mail_id=self.mail_id, smtp_code=self.smtp_code,
                                        diagnostic=self.diagnostic, unsuppressed_by=by,
                                        times_suppressed=sum(step.action == "suppressed" for step in self.history)))
