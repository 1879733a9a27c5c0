"""The bounds every message field keeps, as the few annotated types the models are written with.

Whatever a message holds must be storable and printable as it is: in PostgreSQL (bigint, jsonb:
no NUL), MongoDB (int64), JSON read by any client (integers exact up to 2^53), XML and PDF text
(no control characters), a mail header. A value outside these bounds is refused when the message
arrives (`invalid_data`, naming the field), never later, deep inside a handler.

Money, in minor units of the message's currency:
- a line's amount (quantity x unit_amount) and its unit amount are at most MAX_LINE_AMOUNT in
  absolute value, and its tax (a rate of at most 100 %) at most as much;
- so an invoice of at most MAX_LINES lines totals at most 2 x MAX_LINES x MAX_LINE_AMOUNT =
  MAX_AMOUNT = 5 x 10^14 in absolute value, the bound of every total, payment and bank transfer;
- an open invoice takes payments until it is paid, so what it was paid is at most its total plus
  one payment: 2 x MAX_AMOUNT, under 2^53 - 1 (about 9.007 x 10^15) and far under bigint's 2^63.
"""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

# Stripe's limit too: an invoice of more lines is a statement, and 250 lines of the longest text
# in four-byte characters still fit a record (contracts.limits).
MAX_LINES = 250
MAX_LINE_AMOUNT = 10**12
MAX_AMOUNT = 2 * MAX_LINES * MAX_LINE_AMOUNT
SAFE_INTEGER = 2**53 - 1

# --- integers ---------------------------------------------------------------------------------

LineAmount = Annotated[int, Field(ge=-MAX_LINE_AMOUNT, le=MAX_LINE_AMOUNT,
                                  description=f"Minor units, at most {MAX_LINE_AMOUNT:.0e} either way")]
Amount = Annotated[int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Minor units, at most 5 x 10^14 either way")]
PositiveAmount = Annotated[int, Field(gt=0, le=MAX_AMOUNT, description="Minor units, 1 to 5 x 10^14")]
AmountPaid = Annotated[int, Field(ge=0, le=2 * MAX_AMOUNT, description="Minor units, 0 to 10^15")]
# A line's quantity and tax rate: up to 4 decimals, as a JSON number or a decimal string.
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=4), WithJsonSchema({"anyOf": [
    {"type": "number", "exclusiveMinimum": 0, "maximum": 99_999_999.9999},
    {"type": "string", "pattern": r"^[0-9]{1,8}(\.[0-9]{1,4})?$"},
]})]
TaxRate = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4), WithJsonSchema({"anyOf": [
    {"type": "number", "minimum": 0, "maximum": 100},
    {"type": "string", "pattern": r"^[0-9]{1,3}(\.[0-9]{1,4})?$"},
]})]
# Aggregate versions and sequence numbers only grow, one per change; 2^53 - 1 keeps them exact in JSON.
Version = Annotated[int, Field(ge=0, le=SAFE_INTEGER)]
Sequence = Annotated[int, Field(ge=1, le=SAFE_INTEGER)]
# Tries, days and the like: small counts.
Count = Annotated[int, Field(ge=0, le=1_000_000)]

# --- dates ------------------------------------------------------------------------------------

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
_DAY_RANGE = {"formatMinimum": FIRST_DAY.isoformat(), "formatMaximum": LAST_DAY.isoformat()}

# Dates of business (due, paid, booked, issued): this century. A due date plus a reminder a year
# later stays a real date; 9999-12-31 would not.
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY, json_schema_extra=_DAY_RANGE)]
Moment = Annotated[datetime, Field(
    ge=datetime.combine(FIRST_DAY, datetime.min.time(), tzinfo=UTC),
    le=datetime.combine(LAST_DAY, datetime.max.time(), tzinfo=UTC),
    json_schema_extra={"formatMinimum": f"{FIRST_DAY}T00:00:00Z", "formatMaximum": f"{LAST_DAY}T23:59:59Z"},
)]

# --- text -------------------------------------------------------------------------------------

# Characters no text field holds: C0 and C1 controls (NUL among them), lone surrogates and the two
# noncharacters XML also refuses. Written once, as a JSON Schema (ECMA-262) pattern that Python's
# re reads the same way.
_CONTROLS = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff"
_LINE_BREAKS = r"\u000a\u000d"
_FORBIDDEN = {False: rf"{_CONTROLS}{_LINE_BREAKS}\u0009", True: _CONTROLS}  # by whether line breaks are allowed
_ALLOWED = {False: "text may hold no control characters, tabs or line breaks",
            True: "text may hold tabs and line breaks but no other control characters"}


def _printable(line_breaks: bool) -> AfterValidator:
    forbidden = re.compile(f"[{_FORBIDDEN[line_breaks]}]")

    def check(value: str) -> str:
        if bad := forbidden.search(value):
            raise PydanticCustomError("control_character", "contains {character}; {allowed}",
                                      {"character": f"U+{ord(bad.group()):04X}", "allowed": _ALLOWED[line_breaks]})
        return value

    return AfterValidator(check)


def text(max_length: int, *, min_length: int = 0, line_breaks: bool = False) -> type[str]:
    """A string of at most `max_length` characters with no control characters; with
    `line_breaks`, LF and CR are allowed (free text a person writes over several lines)."""
    return Annotated[str, StringConstraints(min_length=min_length or None, max_length=max_length),
                     _printable(line_breaks),
                     Field(json_schema_extra={"pattern": f"^[^{_FORBIDDEN[line_breaks]}]*$"})]  # type: ignore[return-value]


def _escaping(line_breaks: bool, max_length: int) -> BeforeValidator:
    forbidden = re.compile(f"[{_FORBIDDEN[line_breaks]}]")

    def escape(value: object) -> object:
        if not isinstance(value, str):
            return value
        value = forbidden.sub(lambda found: found.group().encode("unicode_escape").decode(), value)
        return value if len(value) <= max_length else value[: max_length - 1] + "\u2026"

    return BeforeValidator(escape)


def quoted(max_length: int, *, line_breaks: bool = False) -> type[str]:
    """Like `text`, for what the platform writes from what it was sent (a refusal's sentence, an
    SMTP relay's diagnostic, the id of a message it could not read): control characters are
    escaped (\\x00) and an overlong value is cut, as an answer must never fail to be written."""
    return Annotated[text(max_length, line_breaks=line_breaks), _escaping(line_breaks, max_length)]  # type: ignore[return-value]


Text = text(500)
Name = text(200, min_length=1)
ShortText = text(50)
Paragraph = text(2000, line_breaks=True)
# What the platform repeats of what it was sent: a refusal's sentence, a relay's diagnostic, ids.
QuotedName = quoted(200)
QuotedText = quoted(2000, line_breaks=True)
# What a mail or document renders in full (a preview's body): generous, but bounded.
Document = text(100_000, line_breaks=True)


def bounded_list(item: type, max_length: int, *, min_length: int = 0) -> type[list]:
    """A list of at most `max_length` items."""
    return Annotated[list[item], Field(min_length=min_length or None, max_length=max_length)]  # type: ignore[valid-type]
