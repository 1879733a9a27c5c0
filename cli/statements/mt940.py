"""SWIFT MT940 (customer statement), read by a strict reader of its own.

The grammar is SWIFT's, widened only where banks our users send files from are known to write
otherwise (each such case says which layout needs it):
- a file is a sequence of statements, each from `:20:` to its terminator (`-`, `-}` of a SWIFT
  block, or the next `:20:`); text outside statements (SWIFT blocks `{1:..}{2:..}{3:..}{4:`,
  header lines such as ABN AMRO's `ABNANL2A`/`940` or Rabobank's `:940:`) is envelope;
- a line that starts with no field tag continues the field before it; only `:61:` (supplementary
  details) and `:86:` take such lines;
- amounts are digits with one decimal comma as SWIFT writes them (`1000,00`, `9,` in ABN AMRO and
  Bunq files), a decimal point (files converted by other tools), or no separator at all (Knab);
  anything else (two separators, a sign, thousands separators) is refused, never guessed;
- `:61:` is value date, optional entry date, mark (C, D, RC, RD), optional funds code (the third
  letter of the currency: German banks' `CR`/`DR`), amount, transaction type (`N`/`F`/`S` and
  three characters) with the customer reference (SWIFT allows 16 characters, ASN Bank writes
  the payer's IBAN of 18; Zenith Bank writes neither) and, after `//`, the bank's reference;
- `:28C:` is the statement number, possibly empty (Zenith Bank writes ` /1`).

Every statement must add up: opening balance + credits - debits = closing balance. A statement
sent in pages (`:62M:` closing one page, `:60M:` opening the next) is one statement: each page
adds up, and each page opens where the one before closed. Anything else that breaks the grammar
refuses the file, naming the line.
"""

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from stdnum.iban import calc_check_digits

from cli.statements.details import described
from cli.statements.model import Booking, MalformedStatement, Statement, check_balance
from contracts.references import compact, is_valid_iban

_TAG = re.compile(r":(\d{2}[A-Z]?|NS):")
_FIELDS = {"20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65", "NS"}
_INTERIM = {"13", "13D", "34F", "90C", "90D"}  # MT942 (interim transaction report), not a statement
_CONTINUED = {"61", "86", "NS"}
# SWIFT FIN's start and end of text (mBank) and DOS's end of file (Rabobank): framing, not text.
_FRAMING = "\x01\x03\x1a"
# A SWIFT envelope before a statement: basic, application and user header blocks, then the text block.
_ENVELOPE = re.compile(r"^(?:\{1:[^{}]*\})?(?:\{2:[^{}]*\})?(?:\{3:(?:\{[^{}]*\})*\})?(?:\{4:)?")
_TERMINATOR = re.compile(r"-(?:\}.*|XXX)?")  # ING ends its files with "-XXX"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_AMOUNT = r"[0-9]+(?:[,.][0-9]*)?"
_BALANCE = re.compile(rf"(?P<mark>[CD])(?P<date>[0-9]{{6}})(?P<currency>[A-Z]{{3}})(?P<amount>{_AMOUNT})")
_LINE = re.compile(
    rf"(?P<value>[0-9]{{6}})(?P<entry>[0-9]{{4}})?(?P<mark>R?[CD])(?P<funds>[A-Z])?(?P<amount>{_AMOUNT})"
    # The type (Triodos and old ING files pad its code with a space) and the customer reference;
    # Zenith Bank writes neither, only the bank's reference.
    r"(?:(?P<type>[NFS][A-Z0-9 ]{3})(?P<customer>.*?))?(?://(?P<bank>.*))?"
)
_STATEMENT_NUMBER = re.compile(r" ?[0-9]{0,10}(?:/ ?[0-9]{1,5})?")
_NOT_PROVIDED = ("NONREF", "")
_GERMAN_ACCOUNT = re.compile(r"(\d{8})/(\d{1,10})")
_TRIODOS_ACCOUNT = re.compile(r"TRIODOSBANK/(\d{1,10})")
_IBAN_AND_CURRENCY = re.compile(r"([A-Z]{2}\d{2}[A-Z0-9]{11,30}?)([A-Z]{3})")


@dataclass
class _Field:
    tag: str
    line: int
    lines: list[str]

    @property
    def value(self) -> str:
        return self.lines[0].strip()


@dataclass
class _Balance:
    tag: str
    line: int
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f":{self.tag}: {self.amount} {self.currency}"


@dataclass
class _Page:
    """One message of a statement: from :20: to its closing balance."""

    where: str
    reference: str
    account: str
    opening: _Balance
    closing: _Balance
    bookings: list[Booking]


def read(content: bytes, name: str) -> list[Statement]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")  # German banks' exports are often ISO 8859-1
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not any(_TAG.match(line) for line in lines):
        raise MalformedStatement(f"{name} line 1", "neither camt.053 XML nor MT940 (no :20: or other field tag)")
    pages = [_page(fields, name) for fields in _messages(lines, name)]
    if not pages:
        raise MalformedStatement(f"{name} line 1", "no statement (:20:) found")
    return _statements(pages)


def _messages(lines: list[str], name: str) -> list[list[_Field]]:
    """The fields of each statement message, with the lines they continue over."""
    messages: list[list[_Field]] = []
    inside = False
    for number, raw in enumerate(lines, start=1):
        line = raw.strip(_FRAMING)
        line = _ENVELOPE.sub("", line, count=1) if not inside else line
        if _CONTROL.search(line):
            raise MalformedStatement(f"{name} line {number}", "a control character (MT940 text is printable)")
        if not line.strip():
            continue
        if _TERMINATOR.fullmatch(line.strip()):
            inside = False
            continue
        tag = _TAG.match(line)
        if tag and tag.group(1) in _INTERIM:
            raise MalformedStatement(f"{name} line {number}", f"field :{tag.group(1)}: is of an MT942 interim report, not of a statement")
        if tag and tag.group(1) not in _FIELDS:
            # Not a field: text that happens to look like a tag, as a wrapped time (`T16` `:26:37`).
            tag = None
        if tag and tag.group(1) == "20":
            messages.append([])
            inside = True
        if not inside:
            if tag:
                raise MalformedStatement(f"{name} line {number}", f"field :{tag.group(1)}: outside a statement (no :20: before it)")
            continue  # envelope and header lines between statements
        if tag:
            messages[-1].append(_Field(tag.group(1), number, [line[tag.end():]]))
        elif messages[-1] and messages[-1][-1].tag in _CONTINUED:
            messages[-1][-1].lines.append(line)
        else:
            field_before = f":{messages[-1][-1].tag}:" if messages[-1] else "no field"
            raise MalformedStatement(f"{name} line {number}", f"text that is no field and continues {field_before} (one line only)")
    return messages


def _page(fields: list[_Field], name: str) -> _Page:
    first = fields[0]
    where = f"{name} line {first.line} (:20:{first.value})"
    if not first.value or len(first.value) > 35:
        raise MalformedStatement(where, "the statement reference :20: is empty or longer than 35 characters")
    account = opening = closing = None
    bookings: list[Booking] = []
    texts: list[list[str]] = []
    for item in fields[1:]:
        at = f"{name} line {item.line}"
        if item.tag == "25":
            if account is not None or not item.value or len(item.value) > 35:
                raise MalformedStatement(at, "a second, empty or too long account identification :25:")
            account = item.value
        elif item.tag in ("28", "28C") and not _STATEMENT_NUMBER.fullmatch(item.lines[0].rstrip()):
            raise MalformedStatement(at, f"field :{item.tag}: is not a statement number: {item.value!r}")
        elif item.tag in ("60F", "60M"):
            if opening is not None:
                raise MalformedStatement(at, "a second opening balance")
            opening = _balance(item, at)
        elif item.tag == "61":
            if opening is None:
                raise MalformedStatement(at, "a booking :61: before any :60F: or :60M: opening balance")
            if closing is not None:
                raise MalformedStatement(at, "a booking :61: after the closing balance")
            texts.append([])
            bookings.append(_booking(item, at, opening.currency, texts[-1]))
        elif item.tag == "86":
            if texts and closing is None:
                texts[-1].append(item)  # the booking's details; after the closing balance, the statement's
        elif item.tag in ("62F", "62M"):
            if closing is not None:
                raise MalformedStatement(at, "a second closing balance")
            closing = _balance(item, at)
        elif item.tag in ("64", "65"):
            _balance(item, at)  # available balances: information, but they must be balances
    if account is None:
        raise MalformedStatement(where, "the statement has no :25: account identification")
    if opening is None:
        raise MalformedStatement(where, "the statement has no :60F: or :60M: opening balance")
    if closing is None:
        raise MalformedStatement(where, "the statement has no :62F: or :62M: closing balance")
    if closing.currency != opening.currency:
        raise MalformedStatement(f"{name} line {closing.line}", f"{closing} is not in the currency of {opening}")
    # What :86: says wins over what :61: said of the payer; it only fills in what :86: leaves out.
    bookings = [
        replace(booking, **{key: value for key, value in described([d.lines for d in details]).items() if value})
        for booking, details in zip(bookings, texts, strict=True)
    ]
    movements = (booking.amount if booking.credit else -booking.amount for booking in bookings)
    check_balance(f"{name} line {closing.line}", opening.amount, movements, closing.amount, closing.currency)
    return _Page(where, first.value, _account(account.replace(" ", "")), opening, closing, bookings)


def _statements(pages: list[_Page]) -> list[Statement]:
    """Pages of one statement (:62M: then :60M: of the same account) joined into one."""
    statements: list[Statement] = []
    previous: _Page | None = None
    for page in pages:
        continues = (previous is not None and previous.closing.tag == "62M" and page.opening.tag == "60M"
                     and previous.account == page.account)
        if continues:
            if (page.opening.amount, page.opening.currency) != (previous.closing.amount, previous.closing.currency):
                raise MalformedStatement(
                    page.where, f"the page opens with {page.opening}, the page before closed with {previous.closing}"
                )
            statements[-1].bookings.extend(page.bookings)
        else:
            statements.append(Statement(page.where, page.reference, page.account, page.opening.currency, list(page.bookings)))
        previous = page
    return statements


def _balance(item: _Field, at: str) -> _Balance:
    found = _BALANCE.fullmatch(item.value)
    if not found or not _fits(found.group("amount")):
        raise MalformedStatement(at, f"field :{item.tag}: is not a balance (C or D, YYMMDD, currency, amount): {item.value!r}")
    _day(found.group("date"), at)
    amount = _amount(found.group("amount"))
    return _Balance(item.tag, item.line, amount if found.group("mark") == "C" else -amount, found.group("currency"))


def _booking(item: _Field, at: str, currency: str, details: list) -> Booking:
    found = _LINE.fullmatch(item.lines[0].rstrip())
    if not found or not _fits(found.group("amount")):
        raise MalformedStatement(
            at, f"field :61: does not follow its format (date, mark, amount, type, reference): {item.value!r}"
        )
    value_date = _day(found.group("value"), at)
    booked_on = value_date
    if entry := found.group("entry"):
        booked_on = _entry_day(value_date, entry, at)
    mark = found.group("mark")
    reference = (found.group("bank") or "").strip()
    # Supplementary details: Rabobank writes the payer's IBAN there.
    supplementary = compact(item.lines[1]) if len(item.lines) > 1 else ""
    return Booking(
        at, reference if reference not in _NOT_PROVIDED else None, None, _amount(found.group("amount")), currency,
        # RD, a reversed debit, gives money back; RC, a reversed credit, takes it.
        credit=mark in ("C", "RD"), booked=True, booked_on=booked_on, reversal=mark.startswith("R"),
        debtor_iban=supplementary if is_valid_iban(supplementary) else None,
    )


def _fits(amount: str) -> bool:
    """SWIFT's 15 characters; Rabobank pads amounts with zeros beyond them."""
    return len(amount.lstrip("0")) <= 15


def _amount(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def _day(text: str, at: str) -> date:
    year = int(text[:2]) + (1900 if int(text[:2]) >= 70 else 2000)
    month, day = int(text[2:4]), int(text[4:6])
    if month == 2 and day in (29, 30) and not calendar.isleap(year) or month == 2 and day == 30:
        # German banks date quarter-end settlements of fees and interest 30 February (the 30/360
        # day count): the last day of February.
        day = 29 if calendar.isleap(year) else 28
    try:
        return date(year, month, day)
    except ValueError:
        raise MalformedStatement(at, f"{text!r} is not a date (YYMMDD)") from None


def _entry_day(value_date: date, text: str, at: str) -> date:
    """The entry date has no year: the one that puts it nearest the value date (a booking on 31
    December can take value on 2 January)."""
    month = int(text[:2])
    year = value_date.year + (1 if value_date.month - month > 6 else -1 if month - value_date.month > 6 else 0)
    try:
        return date(year, month, int(text[2:]))
    except ValueError:
        raise MalformedStatement(at, f"{text!r} is not an entry date (MMDD)") from None


def _account(identification: str) -> str:
    """The :25: account as an IBAN where it names one: German banks write bank code and account
    number (`37040044/0532013000`, turned into its IBAN by the standard German rule; a few banks
    register IBANs by rules of their own, and such a statement's transfers wait in the unmatched
    queue as `unknown_iban`), Dutch banks the IBAN followed by the currency, Triodos its name and
    the account number (a Dutch IBAN is the bank's code and the 10-digit account number)."""
    if german := _GERMAN_ACCOUNT.fullmatch(identification):
        return _iban("DE", german.group(1) + german.group(2).zfill(10))
    if triodos := _TRIODOS_ACCOUNT.fullmatch(identification):
        return _iban("NL", "TRIO" + triodos.group(1).zfill(10))
    if with_currency := _IBAN_AND_CURRENCY.fullmatch(identification):
        return with_currency.group(1)
    return identification


def _iban(country: str, bban: str) -> str:
    return f"{country}{calc_check_digits(country + '00' + bban)}{bban}"
