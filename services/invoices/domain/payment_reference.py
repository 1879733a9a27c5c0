"""The payment reference printed on an invoice: an ISO 11649 RF creditor reference from its number.

A reference carries at most 21 letters and digits, and an account may choose a longer number
format (or its sequence may outgrow the width the format pads it to). So every number gets a
reference: one that fits is used as it is, and the reference reads like the number; a longer
one keeps its last 13 characters, where the sequence is, behind 8 characters of a digest of the
whole number, so distinct numbers keep distinct references.
"""

import hashlib
import re

from contracts.references import creditor_reference

_MAX_BODY = 21
_KEPT_TAIL = 13
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def payment_reference_for(number: str) -> str:
    body = re.sub(r"[^A-Za-z0-9]", "", number).upper()
    if not body:
        raise ValueError(f"the invoice number {number!r} has no letter or digit to build a reference from")
    if len(body) > _MAX_BODY:
        body = _digest(body, _MAX_BODY - _KEPT_TAIL) + body[-_KEPT_TAIL:]
    return creditor_reference(body)


def _digest(text: str, length: int) -> str:
    value = int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")
    characters = []
    for _ in range(length):
        value, remainder = divmod(value, 36)
        characters.append(_BASE36[remainder])
    return "".join(characters)
