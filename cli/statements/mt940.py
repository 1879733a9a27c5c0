"""SWIFT MT940 (customer statement), read with the mt-940 library, one statement per :20:.

The :86: field is free text in the standard, and banks structure it in their own ways. Three
dialects are read for who paid and what they wrote:
- German banks (DFÜ agreement): `166?00GUTSCHRIFT?20...?29` purpose lines, `?31` IBAN and `?32`/`?33`
  name of the payer, SEPA keys (`EREF+`, `SVWZ+`) inside the purpose (parsed by mt-940);
- SWIFT-style codes used by Dutch and Belgian banks: `/EREF/.../REMI/.../NAME/.../IBAN/...`, also
  `/CNTP/iban/bic/name/city/` and `REMI/USTD//text/`;
- anything else (unstructured): the whole field is the remittance text.
The :25: account is an IBAN, an IBAN followed by the currency (Dutch banks), or a German bank code
and account number (`37040044/0532013000`), which is turned into its IBAN by the standard German
rule (a few banks register IBANs by rules of their own; such a statement's transfers then reach
payments under an IBAN no invoice names, and wait in the unmatched queue as `unknown_iban`).

The purpose lines of the German dialect continue one another (27 characters each, cut anywhere),
so they are joined without a space, as the payer's text was before the bank cut it.
"""

import logging
import re
from datetime import date
from decimal import Decimal

import mt940 as library
from stdnum.iban import calc_check_digits

from cli.statements.model import Booking, MalformedStatement, Statement

# mt-940 logs every mismatch itself; the refusal below says what was wrong and where.
logging.getLogger("mt940").setLevel(logging.CRITICAL)

_TAG = re.compile(r"^:(\d{2}[A-Z]?|NS):", re.MULTILINE)
_SWIFT_CODES = re.compile(r"/(EREF|REMI|NAME|IBAN|BIC|CNTP|TRTP|ORDP|BENM|ID|CSID|MARF|PURP|RTRN|ADDR|SVCL)/")
_NOT_PROVIDED = ("NOTPROVIDED", "NONREF", "")
_GERMAN_ACCOUNT = re.compile(r"(\d{8})/(\d{1,10})")
_IBAN_AND_CURRENCY = re.compile(r"([A-Z]{2}\d{2}[A-Z0-9]{11,30}?)([A-Z]{3})")


def read(content: bytes, name: str) -> list[Statement]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")  # German banks' exports are often ISO 8859-1
    text = text.replace("\r\n", "\n")
    if not _TAG.search(text):
        raise MalformedStatement(f"{name} line 1", "neither camt.053 XML nor MT940 (no :20: or other field tag)")
    try:
        parsed = library.parse_statements(text, options=library.Options.all())
    except (RuntimeError, ValueError) as error:
        value = error.args[2] if len(error.args) > 2 else ""
        raise MalformedStatement(f"{name} line {_line_of(text, value)}", _reason(error)) from None
    lines = {tag: iter(_lines_of(text, tag)) for tag in ("20", "61")}
    statements = [_statement(block, name, lines) for block in parsed if block.data or block.transactions]
    if not statements:
        raise MalformedStatement(f"{name} line 1", "no statement (:20:) found")
    return statements


def _reason(error: Exception) -> str:
    tag = error.args[1] if len(error.args) > 1 else None
    if tag is not None and hasattr(tag, "id"):
        return f"field :{tag.id}: does not follow its format ({type(tag).__name__}): {error.args[2]!r}"
    return str(error)


def _line_of(text: str, value: str) -> int:
    first = value.split("\n", 1)[0]
    position = text.find(first) if first else -1
    return text.count("\n", 0, position) + 1 if position >= 0 else 1


def _lines_of(text: str, tag: str) -> list[int]:
    return [number for number, line in enumerate(text.split("\n"), start=1) if line.startswith(f":{tag}:")]


def _statement(block, name: str, lines: dict) -> Statement:
    data = block.data
    reference = data.get("transaction_reference") or ""
    where = f"{name} line {next(lines['20'], '?')} (:20:{reference})"
    account = data.get("account_identification")
    if not account:
        raise MalformedStatement(where, "the statement has no :25: account identification")
    balance = data.get("final_opening_balance") or data.get("intermediate_opening_balance")
    if balance is None:
        raise MalformedStatement(where, "the statement has no :60F: or :60M: opening balance")
    currency = balance.amount.currency
    bookings = [_booking(line, f"{name} line {next(lines['61'], '?')}", currency) for line in block.transactions]
    return Statement(where, reference, _account(account.replace(" ", "")), currency, bookings)


def _account(identification: str) -> str:
    if german := _GERMAN_ACCOUNT.fullmatch(identification):
        bban = german.group(1) + german.group(2).zfill(10)
        return f"DE{calc_check_digits('DE00' + bban)}{bban}"
    if with_currency := _IBAN_AND_CURRENCY.fullmatch(identification):
        return with_currency.group(1)
    return identification


def _booking(transaction, where: str, currency: str) -> Booking:
    data = transaction.data
    status = data["status"].upper()
    amount: Decimal = abs(data["amount"].amount)
    reference = (data.get("bank_reference") or "").strip()
    described = _described(data)
    return Booking(
        where,
        reference if reference not in _NOT_PROVIDED else None, None,
        amount, data.get("currency") or currency, credit=status in ("C", "RD"), booked=True,
        booked_on=_day(data.get("entry_date") or data.get("date")), reversal=status.startswith("R"), **described,
    )


def _day(value) -> date:
    return date(value.year, value.month, value.day)


def _described(data: dict) -> dict:
    if "purpose" in data or "posting_text" in data:  # the German dialect, parsed by mt-940
        return {
            "remittance_information": data.get("purpose") or data.get("posting_text") or "",
            "debtor_name": data.get("applicant_name") or "",
            "debtor_iban": data.get("applicant_iban") or None,
            "end_to_end_id": _provided(data.get("end_to_end_reference")),
        }
    details = (data.get("transaction_details") or "").replace("\n", "")
    codes = _swift_codes(details)
    if not codes:
        return {"remittance_information": details.strip()}
    counterparty = codes.get("CNTP", "").split("/")
    remittance = codes.get("REMI", "")
    for prefix in ("USTD//", "USTD/", "STRD/CUR/", "STRD/ISO/", "STRD/"):
        if remittance.startswith(prefix):
            remittance = remittance[len(prefix):]
            break
    return {
        "remittance_information": remittance.strip("/ "),
        "debtor_name": codes.get("NAME") or (counterparty[2] if len(counterparty) > 2 else ""),
        "debtor_iban": codes.get("IBAN") or counterparty[0] or None,
        "end_to_end_id": _provided(codes.get("EREF")),
    }


def _swift_codes(details: str) -> dict[str, str]:
    """`/CODE/value/CODE/value` into a dict; a value runs until the next known code."""
    found = list(_SWIFT_CODES.finditer(details))
    if not found or found[0].start() > 0:
        return {}
    return {
        match.group(1): details[match.end(): found[i + 1].start() if i + 1 < len(found) else len(details)].strip("/ ")
        for i, match in enumerate(found)
    }


def _provided(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value in _NOT_PROVIDED else value
