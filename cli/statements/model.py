"""What a statement file says, in one shape for every format: no rule of the platform yet."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class MalformedStatement(ValueError):
    """The file breaks its format; `where` is the file with its line (and element, for XML)."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


@dataclass(frozen=True)
class Booking:
    """One credit or debit on the statement's account. A camt.053 entry with several transaction
    details is one booking per detail (`detail` is its position, from 1)."""

    where: str
    reference: str | None
    """The bank's own reference of the entry (camt AcctSvcrRef, else NtryRef; MT940 :61: //ref)."""
    detail: int | None
    amount: Decimal
    currency: str
    credit: bool
    booked: bool
    """False for pending or information-only entries (camt Sts other than BOOK)."""
    booked_on: date | None
    reversal: bool = False
    pending: bool = False
    """Announced, not booked yet (camt Sts PDNG)."""
    value_date: date | None = None
    """When the money is (or is expected to be) available: camt ValDt."""
    remittance_information: str = ""
    debtor_name: str = ""
    debtor_iban: str | None = None
    end_to_end_id: str = ""
    problem: str | None = None
    """Why the file's own data leaves the booking unpublishable (e.g. details that do not add up)."""


@dataclass(frozen=True)
class Statement:
    where: str
    statement_id: str
    account: str
    """The account as the statement identifies it: an IBAN, or a bank's own account number."""
    currency: str
    bookings: list[Booking]


def check_balance(where: str, opening: Decimal, movements: Iterable[Decimal], closing: Decimal, currency: str) -> None:
    """The check every statement carries: opening balance + credits - debits = closing balance.

    `movements` are signed (a credit positive). A statement that does not add up was cut short,
    altered or misread, so none of it can be trusted: it is refused, naming both sums.
    """
    signed = list(movements)
    credits = sum((m for m in signed if m > 0), Decimal(0))
    debits = -sum((m for m in signed if m < 0), Decimal(0))
    if opening + credits - debits != closing:
        raise MalformedStatement(where, (
            f"the balances do not add up: opening {opening} + credits {credits} - debits {debits} "
            f"= {opening + credits - debits} {currency}, but the closing balance is {closing} {currency}"
        ))
