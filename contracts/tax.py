"""A line's VAT category (EN 16931 BT-151, UNCL 5305) and a party's VAT identifier, each derived in
this one place for the e-invoice the documents write (documents.cii) and for the rules finalization
checks (services.invoices.domain.einvoice_rules), so the two never disagree.

A line records its rate and nothing else of its tax treatment, so a rate above 0 is standard rated
(S) and 0 % is zero rated (Z): the platform never claims an exemption (E) or a reverse charge (AE),
which would each need a reason the line cannot state.
"""

import re
from decimal import Decimal
from typing import Literal

VatCategory = Literal["S", "Z"]
# A VAT identifier as EN 16931 writes one: a two-letter prefix and 2 to 13 characters.
_VAT_ID = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$")


def vat_category(rate: Decimal) -> VatCategory:
    return "S" if rate > 0 else "Z"


def vat_identifier(tax_id: str) -> str | None:
    """The tax id as a VAT identifier (BT-31, BT-48: compact, upper case) when it has that form;
    None for any other tax registration (BT-32), which the e-invoice states as such."""
    compact = tax_id.replace(" ", "").upper()
    return compact if _VAT_ID.match(compact) else None
