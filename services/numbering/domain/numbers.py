"""Invoice number formats and sequences. Pure rules, no I/O.

A format such as `INV-{yyyy}-{seq:05}` names its parts in braces: `{yyyy}` / `{yy}` the year,
`{mm}` the month, `{seq}` or `{seq:0N}` the sequence zero-padded to N digits. A format with a
year (or month) part starts a new sequence each year (or month).
"""

import re
from datetime import date

_PART = re.compile(r"\{(yyyy|yy|mm|seq(?::0([1-9]))?)\}")


class InvalidNumberFormat(ValueError):
    pass


def validate_format(number_format: str) -> None:
    parts = [match.group(1) for match in _PART.finditer(number_format)]
    if sum(part.startswith("seq") for part in parts) != 1:
        raise InvalidNumberFormat(f"{number_format!r} must contain exactly one {{seq}} part")
    if "mm" in parts and not ({"yyyy", "yy"} & set(parts)):
        raise InvalidNumberFormat(f"{number_format!r} has a month but no year: numbers would repeat every year")


def sequence_key(series_key: str, number_format: str, issued_on: date) -> str:
    """The counter a number is drawn from: the series, narrowed to the period the format names."""
    validate_format(number_format)
    parts = {match.group(1) for match in _PART.finditer(number_format)}
    if "mm" in parts:
        return f"{series_key}@{issued_on:%Y-%m}"
    if parts & {"yyyy", "yy"}:
        return f"{series_key}@{issued_on:%Y}"
    return series_key


def format_number(number_format: str, sequence: int, issued_on: date) -> str:
    if sequence < 1:
        raise ValueError("sequences start at 1")

    def render(match: re.Match) -> str:
        part, width = match.group(1), match.group(2)
        if part == "yyyy":
            return f"{issued_on:%Y}"
        if part == "yy":
            return f"{issued_on:%y}"
        if part == "mm":
            return f"{issued_on:%m}"
        return str(sequence).zfill(int(width or 1))

    return _PART.sub(render, number_format)
