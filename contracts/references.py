"""Payment references and IBANs: the checksummed strings payers copy onto their transfers.

The checks are python-stdnum's: ISO 11649 for RF creditor references, and for IBANs the
country's registered length and account number format (plus national check digits where the
country has them) on top of the ISO 7064 MOD 97-10 check digits, which a mistyped IBAN of the
wrong length or an invented country code can pass by chance.
"""

import re

from stdnum import iban, iso11649
from stdnum.iso7064 import mod_97_10

# The shape of a compact RF reference. stdnum validates check digits and length, but its own
# compaction also drops punctuation, and "RF18-5390" on a transfer is not a reference.
_CREDITOR_REFERENCE = re.compile(r"RF[0-9]{2}[A-Z0-9]{1,21}")


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def creditor_reference(base: str) -> str:
    """The ISO 11649 RF creditor reference for a base of 1 to 21 letters and digits."""
    body = re.sub(r"[^A-Za-z0-9]", "", base).upper()
    if not 1 <= len(body) <= 21:
        raise ValueError(f"a creditor reference needs 1 to 21 letters or digits, got {base!r}")
    # The check digits are computed over the base followed by "RF", as validation reads it.
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def is_valid_creditor_reference(reference: str) -> bool:
    candidate = compact(reference)
    return bool(_CREDITOR_REFERENCE.fullmatch(candidate)) and iso11649.is_valid(candidate)


def creditor_references_in(text: str) -> list[str]:
    """Every valid RF reference that free remittance text may carry, compacted (spaces removed).

    Payers type references compact (RF18539007547034) or in groups (RF18 5390 0754 7034), so a
    candidate is "RF", two check digits, and then whole words only. Every run of following words
    that validates is a candidate, the shortest first: the word after a reference may extend it to
    another valid reference ("RF2926120001 px" reads as RF2926120001 and RF2926120001PX), and only
    the invoices looked up can tell which one the payer meant. Cutting inside a word would let a
    random prefix of the next word validate by chance.
    """
    words = re.findall(r"[A-Za-z0-9]+", text)
    found = []
    for start, word in enumerate(words):
        head = word.upper()
        if not re.fullmatch(r"RF[0-9]{2}[A-Z0-9]*", head):
            continue
        following = words[start + 1 : start + 6]
        for count in range(len(following) + 1):
            candidate = head + "".join(following[:count]).upper()
            if len(candidate) > 25:
                break
            if is_valid_creditor_reference(candidate) and candidate not in found:
                found.append(candidate)
    return found


def format_in_groups(reference: str) -> str:
    """Print form: groups of four, as on paper invoices and payment slips."""
    value = compact(reference)
    return " ".join(value[i : i + 4] for i in range(0, len(value), 4))


def is_valid_iban(value: str) -> bool:
    """True for an IBAN as its country registers it, spaces and case aside."""
    candidate = compact(value)
    # stdnum would also drop dashes; an IBAN callers store must be the compact form itself.
    return candidate.isalnum() and iban.is_valid(candidate)
