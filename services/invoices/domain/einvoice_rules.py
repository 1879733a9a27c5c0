"""The EN 16931 business rules an invoice can be judged by before it is issued. Pure: no I/O.

Finalization refuses an invoice that would make an invalid e-invoice (`einvoice_rule_violation`,
the sentence naming each rule broken) instead of numbering it and issuing a document that the
buyer's software, or the French and German platforms, reject. Only rules about what the platform
knows of an invoice are here: the parties' countries and VAT identifiers and each line's VAT
category; the others hold by how documents.cii writes the XML, which Mustang checks in the tests.

- BR-09, BR-11: the seller's and the buyer's postal address have a country code;
- BR-CL-14: a country code is an ISO 3166-1 alpha-2 code (CLDR's list of regions, by Babel, less
  the regions that are no country of ISO 3166-1);
- BR-CO-09: a VAT identifier (BT-31 the seller's, BT-48 the buyer's: a tax id of that form,
  contracts.tax) starts with a country code (EL for Greece, XI for Northern Ireland); where
  python-stdnum knows that country's VAT numbers, it must be one (check digits, length);
- BR-S-02, BR-Z-02: an invoice with a line in VAT category S (a rate above 0), or Z (0 %), names
  the seller's VAT identifier or tax registration. The category is contracts.tax's, as in the XML.
"""

from collections.abc import Sequence
from functools import cache

import stdnum
from babel import Locale
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

from contracts.messages.common import Address, Customer, Issuer, LineItem
from contracts.tax import vat_category, vat_identifier
from services.invoices.domain.errors import RuleViolation

# CLDR regions with two letters that ISO 3166-1 does not assign to a country.
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})
# VAT prefixes that are no ISO 3166-1 code and that BR-CO-09 (and the EU's VIES) accept.
_VAT_ONLY_PREFIXES = frozenset({"EL", "XI"})
_CATEGORY_RULES = {"S": ("BR-S-02", "a line has VAT"), "Z": ("BR-Z-02", "a line is zero rated")}


@cache
def country_codes() -> frozenset[str]:
    return frozenset(code for code in Locale("en").territories
                     if len(code) == 2 and code.isalpha()) - _NOT_COUNTRIES


def check(issuer: Issuer, customer: Customer, lines: Sequence[LineItem]) -> None:
    """Refuses an invoice that breaks any of the rules, naming every rule it breaks."""
    if broken := violations(issuer, customer, lines):
        raise RuleViolation("einvoice_rule_violation", " ".join(broken))


def violations(issuer: Issuer, customer: Customer, lines: Sequence[LineItem]) -> list[str]:
    """Each rule the invoice breaks, as "<rule>: <what is wrong>"; none for a valid e-invoice."""
    found = [*_country("BR-09", "seller", issuer.address), *_country("BR-11", "buyer", customer.address)]
    found += [*_vat_identifier("seller", issuer.tax_id), *_vat_identifier("buyer", customer.tax_id)]
    if not issuer.tax_id.strip():
        categories = {vat_category(line.tax_rate) for line in lines}
        # The first category of the invoice that needs a seller's tax id, S before Z.
        for category, (rule, because) in _CATEGORY_RULES.items():
            if category in categories:
                found.append(f"{rule}: {because}, so the seller's VAT identifier is required; configure the "
                             "account's company_tax_id (account.configure).")
                break
    return found


def _country(rule: str, party: str, address: Address) -> list[str]:
    if not address.country:
        where = "the account's company_address" if party == "seller" else "the customer's address"
        return [f"{rule}: the {party}'s postal address needs a country code; set {where}.country."]
    if address.country not in country_codes():
        return [f"BR-CL-14: the {party}'s country code {address.country} is no ISO 3166-1 country."]
    return []


def _vat_identifier(party: str, tax_id: str) -> list[str]:
    number = vat_identifier(tax_id)
    if number is None:
        return []  # a tax registration of another form (BT-32), which no rule of these judges
    prefix = number[:2]
    if prefix not in country_codes() | _VAT_ONLY_PREFIXES:
        return [f"BR-CO-09: the {party}'s VAT identifier {number} does not start with a country code."]
    if not _valid_vat_number(prefix, number):
        return [f"BR-CO-09: the {party}'s VAT identifier {number} is no valid VAT number of {prefix} "
                "(its length or check digits)."]
    return []


def _valid_vat_number(prefix: str, number: str) -> bool:
    """python-stdnum's verdict where it knows the country's VAT numbers (every EU member state, with
    EL and XI, and some 40 others); a country it does not know is given the benefit of the doubt."""
    if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
        return eu_vat.is_valid(number)
    module = stdnum.get_cc_module(prefix.lower(), "vat")
    if module is None:
        return True
    try:
        module.validate(number)
    except ValidationError:
        return False
    return True
