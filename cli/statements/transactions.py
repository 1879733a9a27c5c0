"""Which bookings of a statement become `bank_transaction.received` or `bank_transaction.pending`,
under which id; and why the others are only reported.

Published: booked credits (`bank_transaction.received`) and pending ones (camt status PDNG,
`bank_transaction.pending`) in the account's currency, to an account identified by IBAN, whose
amount the currency's minor units hold exactly (camt.053 amounts have up to five decimals; 10.005
EUR is reported, never rounded). Reported: debits, reversals, information-only entries, other
currencies, such amounts, and bookings the file itself describes inconsistently.

The transaction id is the bank's own reference of the booking, qualified by the account's IBAN
(banks number bookings per account, so two banks' references may coincide): `IBAN:REF`. A detail
of a batch booking adds its position: `IBAN:REF:2`. A reference with characters an id cannot
carry is hashed: `IBAN::HASH`. A booking without any reference (MT940 `NONREF` and no bank
reference) is named after what it says (day, amount, currency, text, payer) and how many
bookings before it in its statement say the same: `IBAN:::HASH:1`. Importing a file again, or a
statement that overlaps an earlier one, so yields the same ids, and payments takes a transaction
id it knows for the same transaction.
"""

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from cli.statements.model import Booking, Statement
from contracts.messages.payments import BankCredit, BankTransactionPending, BankTransactionReceived
from contracts.money import CURRENCY_EXPONENTS, to_minor_units
from contracts.references import compact, is_valid_iban

ReportReason = Literal[
    "debit", "reversal", "not_booked", "other_currency", "unknown_currency", "not_in_minor_units",
    "account_not_iban", "no_booking_date", "inconsistent", "invalid",
]
_VERBATIM = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_TEXT_LIMIT = 500  # the message's limit for remittance text and names


@dataclass(frozen=True)
class Reported:
    """A booking that is not published, and why."""

    where: str
    reason: ReportReason
    detail: str
    transaction_id: str | None = None


def classify(statement: Statement) -> Iterator[BankCredit | Reported]:
    iban = compact(statement.account)
    account_is_iban = is_valid_iban(iban)
    seen: Counter[str] = Counter()
    for booking in statement.bookings:
        transaction_id = _transaction_id(iban, booking, seen)
        refusal = _refusal(statement, account_is_iban, booking)
        if refusal is not None:
            yield Reported(booking.where, *refusal, transaction_id=transaction_id)
            continue
        try:
            amount = to_minor_units(booking.amount, booking.currency)
        except ValueError as error:
            yield Reported(booking.where, "not_in_minor_units", str(error), transaction_id)
            continue
        try:
            credit = dict(
                transaction_id=transaction_id, iban=iban, amount=amount, currency=booking.currency,
                remittance_information=booking.remittance_information[:_TEXT_LIMIT],
                debtor_name=_one_line(booking.debtor_name)[:_TEXT_LIMIT], debtor_iban=_iban_or_none(booking.debtor_iban),
                end_to_end_id=booking.end_to_end_id[:35],
            )
            transaction = (BankTransactionPending(**credit, value_date=booking.value_date) if booking.pending
                           else BankTransactionReceived(**credit, booked_on=booking.booked_on))
        except ValidationError as error:
            problem = error.errors()[0]
            yield Reported(booking.where, "invalid", f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}",
                           transaction_id)
            continue
        yield transaction


def _refusal(statement: Statement, account_is_iban: bool, booking: Booking) -> tuple[ReportReason, str] | None:
    amount = f"{booking.amount} {booking.currency}"
    if booking.problem:
        return "inconsistent", booking.problem
    if booking.reversal:
        return "reversal", f"a reversal of {amount}"
    if not booking.credit:
        return "debit", f"a debit of {amount}"
    if not booking.booked and not booking.pending:
        return "not_booked", f"a credit of {amount} for information only"
    if booking.currency != statement.currency:
        return "other_currency", f"a credit of {amount} to an account in {statement.currency}"
    if booking.currency not in CURRENCY_EXPONENTS:
        return "unknown_currency", f"{booking.currency} is not an active ISO 4217 currency"
    if not account_is_iban:
        return "account_not_iban", f"the account {statement.account!r} is not an IBAN"
    if booking.booked and booking.booked_on is None:
        return "no_booking_date", "the entry has neither booking nor value date"
    return None


def _transaction_id(iban: str, booking: Booking, seen: Counter[str]) -> str:
    if booking.reference is None:
        said = "|".join(map(str, (booking.booked_on, booking.amount, booking.currency, booking.credit,
                                  booking.remittance_information, booking.debtor_name, booking.debtor_iban)))
        seen[said] += 1
        return f"{iban}:::{_hash(said)}:{seen[said]}"
    name = f"{iban}:{booking.reference}" if _VERBATIM.fullmatch(booking.reference) else f"{iban}::{_hash(booking.reference)}"
    return f"{name}:{booking.detail}" if booking.detail else name


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _iban_or_none(value: str | None) -> str | None:
    """The payer's IBAN is information only: one that is no valid IBAN is left out, not refused."""
    return compact(value) if value and is_valid_iban(value) else None


def _one_line(name: str) -> str:
    """A payer's name as one line: banks break long names over lines of their own width (an
    MT940 :86: field, a camt `Nm` written over lines), and a name in a message is one line."""
    return " ".join(name.split())
