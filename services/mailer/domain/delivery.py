"""What an SMTP delivery attempt means for a mail: delivered, retried later, or bounced. Pure.

SMTP says 4xx for "try again later" and 5xx for "never". No reply at all (connection refused,
timeout, a relay that rejects our login) says nothing about the message, so it is temporary.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Verdict = Literal["temporary", "permanent"]


@dataclass(frozen=True)
class SmtpReply:
    code: int | None  # None: the relay never gave a verdict on this message
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.text}" if self.code is not None else self.text


def classify(reply: SmtpReply) -> Verdict:
    return "permanent" if reply.code is not None and 500 <= reply.code < 600 else "temporary"


@dataclass(frozen=True)
class DeliveryReport:
    """What the relay said about one attempt, per recipient."""

    accepted: tuple[str, ...] = ()
    refused: dict[str, SmtpReply] = field(default_factory=dict)
    # True when the relay refused the addresses themselves (at RCPT TO), so a permanent refusal
    # proves the address is dead. A message-level refusal (sender, content) proves nothing
    # about the addresses and must not suppress them.
    refused_at_recipient: bool = True

    @classmethod
    def message_refused(cls, recipients: list[str], reply: SmtpReply) -> "DeliveryReport":
        return cls(refused={address: reply for address in recipients}, refused_at_recipient=False)


@dataclass(frozen=True)
class Assessment:
    delivered: tuple[str, ...]
    bounced: dict[str, SmtpReply]  # permanently refused
    given_up: dict[str, SmtpReply]  # temporarily refused, out of attempts
    retry: tuple[str, ...]
    retry_at: datetime | None
    suppress: dict[str, SmtpReply]  # addresses proven dead


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float

    def backoff(self, attempt: int) -> timedelta:
        """The wait after the attempt-th failed attempt: base, 2 x base, 4 x base, ..."""
        return timedelta(seconds=self.base_seconds * 2 ** (attempt - 1))

    def assess(self, report: DeliveryReport, attempt: int, now: datetime) -> Assessment:
        permanent = {a: r for a, r in report.refused.items() if classify(r) == "permanent"}
        temporary = {a: r for a, r in report.refused.items() if classify(r) == "temporary"}
        may_retry = attempt < self.max_attempts
        return Assessment(
            delivered=report.accepted,
            bounced=permanent,
            given_up={} if may_retry else temporary,
            retry=tuple(temporary) if may_retry else (),
            retry_at=now + self.backoff(attempt) if may_retry and temporary else None,
            suppress=permanent if report.refused_at_recipient else {},
        )
