"""Invoice number formats and sequences. Pure rules, no I/O.

A format such as `INV-{yyyy}-{seq:05}` names its parts in braces: `{yyyy}` / `{yy}` the year,
`{mm}` the month, `{seq}` or `{seq:0N}` the sequence zero-padded to N digits. A format with a
year (or month) part starts a new sequence each year (or month).

A format that breaks its rules (exactly one `{seq}`, a year wherever there is a month) never gets
here: the messages that carry one refuse it when they arrive (contracts.messages.numbering).
"""

import re
from datetime import date

from contracts.messages.numbering import FORMAT_PART as _PART


def sequence_key(series_key: str, number_format: str, issued_on: date) -> str:
    """The counter a number is drawn from: the series, narrowed to the period the format names."""
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
