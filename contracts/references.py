"""Payment references and IBANs: the checksummed strings payers copy onto their transfers.

Both use ISO 7064 MOD 97-10, which catches every single-character error and nearly every
transposition, so a reference that validates was almost certainly copied correctly.
"""

import re


def _mod97(alphanumeric: str) -> int:
    digits = "".join(str(int(char, 36)) for char in alphanumeric)
    return int(digits) % 97


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def creditor_reference(base: str) -> str:
    """The ISO 11649 RF creditor reference for a base of 1 to 21 letters and digits."""
    body = re.sub(r"[^A-Za-z0-9]", "", base).upper()
    if not 1 <= len(body) <= 21:
        raise ValueError(f"a creditor reference needs 1 to 21 letters or digits, got {base!r}")
    check = 98 - _mod97(body + "RF00")
    return f"RF{check:02d}{body}"


def is_valid_creditor_reference(reference: str) -> bool:
    candidate = compact(reference)
    if not re.fullmatch(r"RF[0-9]{2}[A-Z0-9]{1,21}", candidate):
        return False
    return _mod97(candidate[4:] + candidate[:4]) == 1


def creditor_references_in(text: str) -> list[str]:
    """Valid RF references found in free remittance text, compacted (spaces removed).

    Payers type references compact (RF18539007547034) or in groups (RF18 5390 0754 7034), so a
    candidate is "RF", two check digits, and then whole words only: the longest run of following
    words that validates wins. Cutting inside a word would let a random prefix of the next word
    validate by chance.
    """
    words = re.findall(r"[A-Za-z0-9]+", text)
    found = []
    for start, word in enumerate(words):
        head = word.upper()
        if not re.fullmatch(r"RF[0-9]{2}[A-Z0-9]*", head):
            continue
        following = words[start + 1 : start + 6]
        for count in range(len(following), -1, -1):
            candidate = head + "".join(following[:count]).upper()
            if len(candidate) <= 25 and is_valid_creditor_reference(candidate):
                found.append(candidate)
                break
    return found


def format_in_groups(reference: str) -> str:
    """Print form: groups of four, as on paper invoices and payment slips."""
    value = compact(reference)
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def is_valid_iban(iban: str) -> bool:
    candidate = compact(iban)
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", candidate):
        return False
    return _mod97(candidate[4:] + candidate[:4]) == 1
