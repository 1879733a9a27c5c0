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
- BR-S-02, BR-Z-02, BR-E-02: an invoice with a line in VAT category S (a rate above 0), Z (0 %)
  or E (exempt) names the seller's VAT identifier or tax registration;
- BR-AE-02: reverse charge (AE) needs the seller's and the buyer's VAT identifiers; BR-G-02: an
  export (G) the seller's VAT identifier (a tax registration of another form does not do for either);
- BR-AE-05, BR-E-05, BR-G-05: a line with an exemption has a rate of 0 %. (BR-AE-10, BR-E-10 and
  BR-G-10, the exemption's reason, hold: a line names its exemption by its VATEX code.)
- BR-E-01: the breakdown has one group of exempt lines, so they all name the same exemption.
The category is contracts.tax's, as in the XML.
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
# What each category needs of the seller's tax id: any tax registration, or a VAT identifier; in
# the order the rules are named when several categories lack it.
_SELLER_TAX_ID_RULES = {
    "S": ("BR-S-02", "a line has VAT", False), "AE": ("BR-AE-02", "a line is reverse charged", True),
    "G": ("BR-G-02", "a line is an export", True), "E": ("BR-E-02", "a line is exempt", False),
    "Z": ("BR-Z-02", "a line is zero rated", False),
}


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
    categories = {vat_category(line) for line in lines}
    for category, (rule, because, vat_id_only) in _SELLER_TAX_ID_RULES.items():
        if category in categories and not (vat_identifier(issuer.tax_id) if vat_id_only else issuer.tax_id.strip()):
            found.append(f"{rule}: {because}, so the seller's VAT identifier is required; configure the "
                         "account's company_tax_id (account.configure).")
            break  # one sentence says what to configure
    if "AE" in categories and not vat_identifier(customer.tax_id):
        found.append("BR-AE-02: a line is reverse charged, so the buyer's VAT identifier is required; set the "
                     "customer's tax_id.")
    if len({line.tax_exemption for line in lines if vat_category(line) == "E"}) > 1:
        found.append("BR-E-01: the exempt lines name different exemptions; an e-invoice states one per invoice.")
    for position, line in enumerate(lines):
        if line.tax_exemption is not None and line.tax_rate != 0:
            rule = f"BR-{vat_category(line)}-05"
            found.append(f"{rule}: line {position} names the exemption {line.tax_exemption}, so its tax rate "
                         "must be 0 %.")
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
