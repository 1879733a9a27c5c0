"""A line's VAT category (EN 16931 BT-151, UNCL 5305) and a party's VAT identifier, each derived in
this one place for the e-invoice the documents write (documents.cii) and for the rules finalization
checks (services.invoices.domain.einvoice_rules), so the two never disagree.

A line is standard rated (S) at a rate above 0 and zero rated (Z) at 0 %, unless it names why it
bears no VAT (`tax_exemption`, a code of the CEF VATEX list, EN 16931 BT-121): reverse charge (AE),
an export outside the EU (G) or an exemption of the VAT Directive (E). Each such code says its
category, so a line never claims an exemption it cannot name.
"""

import re
from decimal import Decimal
from typing import Literal, Protocol

VatCategory = Literal["S", "Z", "E", "AE", "G"]
VatExemption = Literal["VATEX-EU-AE", "VATEX-EU-G", "VATEX-EU-132", "VATEX-EU-143", "VATEX-EU-79-C"]
# Each code's category and its text (BT-120), as the VATEX list names them.
EXEMPTIONS: dict[str, tuple[VatCategory, str]] = {
    "VATEX-EU-AE": ("AE", "Reverse charge"),
    "VATEX-EU-G": ("G", "Export outside the EU"),
    "VATEX-EU-132": ("E", "Exempt based on article 132 of Council Directive 2006/112/EC"),
    "VATEX-EU-143": ("E", "Exempt based on article 143 of Council Directive 2006/112/EC"),
    "VATEX-EU-79-C": ("E", "Exempt based on article 79, point c of Council Directive 2006/112/EC"),
}
# A VAT identifier as EN 16931 writes one: a two-letter prefix and 2 to 13 characters.
_VAT_ID = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$")


class TaxedLine(Protocol):
    tax_rate: Decimal
    tax_exemption: VatExemption | None


def vat_category(line: TaxedLine) -> VatCategory:
    if line.tax_exemption is not None:
        return EXEMPTIONS[line.tax_exemption][0]
    return "S" if line.tax_rate > 0 else "Z"


def vat_identifier(tax_id: str) -> str | None:
    """The tax id as a VAT identifier (BT-31, BT-48: compact, upper case) when it has that form;
    None for any other tax registration (BT-32), which the e-invoice states as such."""
    compact = tax_id.replace(" ", "").upper()
    return compact if _VAT_ID.match(compact) else None
