"""How big a record may be, and how deep and how long-numbered its JSON: refused before any
work that grows with them.

Python's own JSON parser stops where a hostile document wants it to: an integer of more than
4,300 digits raises ValueError, nesting a thousand deep RecursionError, and a body of many
megabytes (a compressed record unpacks to any size) costs its size in parsing and validation.
So the size is checked first, from the record's lengths, and the JSON is read by pydantic-core's
parser, which stops at the first level or digit beyond its limits (and is faster than the
standard library's: 12 instead of 18 µs for a 3 KB event). The limits are far above anything
valid: the largest valid message, an invoice.finalized or mail.send_invoice of 250 lines whose
every text field is full of four-byte characters, has 0.66 MB (tests/unit/test_record_limits.py
checks every type that carries an invoice); a valid message nests 6 deep (an event's invoice, its
lines, a line); its longest number is an amount in minor units.
"""

# The Kafka producer's default max.request.size: no record the platform publishes is larger.
# Counted over key, value and header names and values.
MAX_RECORD_BYTES = 1_048_576
# pydantic-core's parser refuses nesting beyond about 200 levels (objects 200, arrays 201) and
# integers beyond Python's limit of 4,300 digits; tests/unit/test_record_limits.py holds it to that.
MAX_JSON_DEPTH = 200
MAX_INTEGER_DIGITS = 4300


def record_size(key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes | None]]) -> int:
    return len(key or b"") + len(value or b"") + sum(len(name) + len(data or b"") for name, data in headers)
