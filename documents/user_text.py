"""Text from users as a document prints it: whatever reached the document (data stored before the
contracts bounded it, a preview), it renders, and it renders as text.

C0 and C1 control characters, Unicode line and paragraph separators, lone surrogates and the two
noncharacters U+FFFE and U+FFFF are not text: the XML of the e-invoice cannot carry them (XML 1.0
`Char`, which lxml enforces), a PDF font has no glyph for them and a reader may take them for line
breaks. A one-line field prints them as a space; a multi-line field (a memo) keeps its line breaks
and treats each line as a one-line field.
"""

import re

from contracts.messages.common import Address

_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]+")


def one_line(text: str) -> str:
    return " ".join(_NOT_TEXT.sub(" ", text).split())


def paragraphs(text: str) -> list[str]:
    """The lines of a multi-line field, each made one line; at least one."""
    return [one_line(line) for line in text.splitlines()] or [""]


def address_lines(address: Address) -> list[str]:
    """An address as printed: its lines, postal code and city on one, the country last."""
    place = " ".join(part for part in (address.postal_code, address.city) if part)
    return [one_line(line) for line in (address.line1, address.line2, place, address.country) if line]
