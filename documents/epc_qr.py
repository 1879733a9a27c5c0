"""The transfer QR code of an invoice that is owed: EPC069-12 "SEPA credit transfer" (GiroCode),
which banking apps across the SEPA area read to fill in a transfer.

One payload for every place that shows it (the PDF, the hosted page, the HTML mail), made by
segno from what the document itself prints: the payee's name, IBAN and BIC if configured, the
amount still owed and the RF creditor reference payments matches on. The code is only for euros
(the EPC scheme knows no other currency) and only while something is owed. Pure: no I/O.
"""

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

import segno

from contracts.messages.common import InvoiceSnapshot
from contracts.money import minor_unit_exponent

# EPC069-12's bounds: a beneficiary name of at most 70 characters, an amount up to 999,999,999.99.
_MAX_NAME = 70
_MAX_AMOUNT = 99_999_999_999
_MAX_PAYLOAD = 331  # bytes


@dataclass(frozen=True)
class TransferRequest:
    """What the QR code asks a banking app to transfer."""

    payee: str
    iban: str
    bic: str | None
    amount: int
    reference: str


def transfer_request(invoice: InvoiceSnapshot) -> TransferRequest | None:
    """The transfer an invoice asks for now, or None when no QR code applies: nothing is owed
    (paid, void, a draft, amount_remaining 0), it is not in euros, or the payee, IBAN or RF
    reference is missing, or the amount is beyond what the scheme can carry."""
    if invoice.status not in ("open", "uncollectible") or invoice.currency != "EUR":
        return None
    if invoice.issuer is None or not invoice.payee_iban or not invoice.payment_reference:
        return None
    if not 0 < invoice.amount_remaining <= _MAX_AMOUNT:
        return None
    return TransferRequest(payee=invoice.issuer.company_name[:_MAX_NAME].strip(), iban=invoice.payee_iban,
                           bic=invoice.payee_bic, amount=invoice.amount_remaining, reference=invoice.payment_reference)


# A fixed mask: segno would otherwise spend some 6 ms of the code's 7 choosing the mask that
# scores best on ISO/IEC 18004's penalty rules; every mask is a valid code, and readers (zbar in the
# tests, banking apps) decode any. Still remembered, for the page viewed again and the PDF of the
# same invoice version: a few, as a code is some 4 KiB of matrix and costs 1 ms to make again.
_MASK = 0


@lru_cache(maxsize=128)
def epc_qr(request: TransferRequest) -> segno.QRCode:
    """The QR code (error correction M, as EPC069-12 requires). Render it with segno: `.svg_inline()`
    for HTML, `.png_data_uri()` or `.save(buffer, kind="png")` for images."""
    return segno.make_qr(_payload(request), error="m", boost_error=False, mask=_MASK)


def _payload(request: TransferRequest) -> bytes:
    """EPC069-12 version 002, in UTF-8 (charset 1), not the smallest charset that fits: segno's
    helper chose ISO 8859-2 for a Polish name, which zbar (and so, likely, some banking apps) read
    as Latin-1. The amount as the scheme writes it: no trailing zeros ("EUR1473.5")."""
    amount = f"{Decimal(request.amount).scaleb(-minor_unit_exponent('EUR')):.2f}".rstrip("0").rstrip(".")
    lines = ["BCD", "002", "1", "SCT", request.bic or "", request.payee, request.iban, f"EUR{amount}",
             "", request.reference]  # the empty line: no purpose code
    payload = "\n".join(lines).encode()
    if len(payload) > _MAX_PAYLOAD:  # 70 characters of a name outside Latin script can do it
        raise ValueError(f"EPC069-12 carries at most {_MAX_PAYLOAD} bytes, this transfer needs {len(payload)}")
    return payload
