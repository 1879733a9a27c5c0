"""Who paid and what they wrote, from the MT940 `:86:` field(s) of a booking.

`:86:` is free text in the standard, and banks structure it in their own ways. Three dialects:
- subfields (German banks' DFÜ agreement, `166?00GUTSCHRIFT?20...`; Triodos the same with `>`):
  `?20`-`?29` and `?60`-`?63` are the purpose, 27 characters a line and cut anywhere, so they are
  joined without a space as the payer's text was before the bank cut it; `?31` the payer's IBAN,
  `?32`/`?33` the name; SEPA keys (`EREF+`, `SVWZ+`, ...) inside the purpose;
- SWIFT-style codes (Dutch and Belgian banks, Bunq): `/EREF/.../REMI/.../NAME/.../IBAN/...`, also
  `/CNTP/iban/bic/name/city/` and `REMI/USTD//text/`; ASN Bank writes the payer first and the codes
  after it;
- anything else (unstructured): the whole text is the remittance.
Subfields and codes are cut anywhere (Rabobank and ASN at 65 characters, Knab shorter), and their
values are delimited by the codes, so their lines are joined as they are. Unstructured text is cut
at 65 characters only by banks that fill lines (such a line continues the next without a space);
a shorter line ends where the bank ended it (ING, Knab), so it is joined with a space.
"""

import re

_SUBFIELDS = re.compile(r"^[0-9]{3}([?>])[0-9]{2}")
_PURPOSE = {f"{n:02d}" for n in (*range(20, 30), *range(60, 64))}
_SEPA_KEYS = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|BREF|RREF|IBAN|BIC)\+")
_SWIFT_CODES = re.compile(
    r"/(EREF|REMI|NAME|IBAN|BIC|CNTP|TRTP|ORDP|BENM|ID|CSID|MARF|PURP|RTRN|ADDR|SVCL|ISDT|ACCW|PREF|ULTD|ULTC)/"
)
_WIDTH = 65
_NOT_PROVIDED = ("NOTPROVIDED", "NONREF", "")


def described(fields: list[list[str]]) -> dict:
    """The booking's remittance text, payer and end-to-end id from its `:86:` fields (each a list
    of lines; old Rabobank files write one field per line)."""
    if not fields:
        return {}
    joined = "".join(line for lines in fields for line in lines)
    if _SUBFIELDS.match(joined):
        return _subfields(joined)
    if codes := _swift_codes(" ".join("".join(lines) for lines in fields).strip()):
        return _coded(codes)
    return {"remittance_information": _clean(" ".join(_unfolded(lines) for lines in fields))}


def _unfolded(lines: list[str]) -> str:
    text, previous = "", ""
    for line in lines:
        cut_at_width = len(previous) >= _WIDTH and not previous[-1].isspace()
        text += ("" if cut_at_width else " ") + line.strip()
        previous = line
    return text.strip()


def _subfields(text: str) -> dict:
    separator = _SUBFIELDS.match(text).group(1)
    parts = re.split(rf"{re.escape(separator)}([0-9]{{2}})", text[3:])
    values: dict[str, list[str]] = {}
    for code, value in zip(parts[1::2], parts[2::2], strict=True):
        values.setdefault(code, []).append(value)
    purpose = "".join(value for code, found in values.items() if code in _PURPOSE for value in found)
    keys = dict(_sepa_keys(purpose))
    return {
        "remittance_information": _clean(keys.get("SVWZ", purpose if not keys else "") or "".join(values.get("00", []))),
        "debtor_name": _clean("".join(values.get("32", []) + values.get("33", []))),
        "debtor_iban": _clean("".join(values.get("31", []))) or None,
        "end_to_end_id": _provided(keys.get("EREF")),
    }


def _sepa_keys(purpose: str) -> list[tuple[str, str]]:
    found = list(_SEPA_KEYS.finditer(purpose))
    if not found or found[0].start() > 0:
        return []
    ends = [match.start() for match in found[1:]] + [len(purpose)]
    return [(match.group(1), purpose[match.end():end]) for match, end in zip(found, ends, strict=True)]


def _coded(codes: dict[str, str]) -> dict:
    counterparty = codes.get("CNTP", "").split("/")
    remittance = codes.get("REMI", "")
    for prefix in ("USTD//", "USTD/", "STRD/CUR/", "STRD/ISO/", "STRD/"):
        if remittance.startswith(prefix):
            remittance = remittance[len(prefix):]
            break
    return {
        "remittance_information": _clean(remittance.strip("/ ")),
        "debtor_name": _clean(codes.get("NAME") or (counterparty[2] if len(counterparty) > 2 else "")),
        "debtor_iban": _clean(codes.get("IBAN") or counterparty[0]) or None,
        "end_to_end_id": _provided(codes.get("EREF")),
    }


def _swift_codes(details: str) -> dict[str, str]:
    """`/CODE/value/CODE/value` into a dict; a value runs until the next known code. The codes
    start the text, or follow the payer (ASN Bank) when they carry the remittance (REMI)."""
    found = list(_SWIFT_CODES.finditer(details))
    codes = {
        match.group(1): details[match.end(): found[i + 1].start() if i + 1 < len(found) else len(details)].strip("/ ")
        for i, match in enumerate(found)
    }
    return codes if found and (found[0].start() == 0 or "REMI" in codes) else {}


def _clean(text: str) -> str:
    """Runs of spaces and tabs (padding, wrapped lines) are one space."""
    return " ".join(text.split())


def _provided(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value in _NOT_PROVIDED else value
