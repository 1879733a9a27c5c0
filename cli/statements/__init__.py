"""Bank statement files (ISO 20022 camt.053, camt.052 and camt.054, SWIFT MT940) read into bank transactions.

`read_statements` reads a file whole, in the format its content shows, into Statements: the
bookings as the bank wrote them. `transactions.classify` then decides, booking by booking,
which become `bank_transaction.received` (booked credits) or `bank_transaction.pending` (credits
the bank announced, camt status PDNG) and which are only reported (debits, other currencies,
amounts the currency cannot hold). A file that breaks its format, or whose statements do not add up
(opening balance + credits - debits = closing balance), is refused as a whole (MalformedStatement
names the line or element and the reason), so nothing of it is published.
"""

from pathlib import Path

from cli.statements import camt053, mt940
from cli.statements.model import MalformedStatement, Statement


def read_statements(path: Path) -> list[Statement]:
    content = path.read_bytes()
    if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return camt053.read(content, str(path))
    return mt940.read(content, str(path))


__all__ = ["MalformedStatement", "Statement", "read_statements"]
