"""EN 16931 business rules checked at finalization (services.invoices.domain.einvoice_rules): an
invoice that would make an invalid e-invoice is refused, naming the rule, before it is numbered."""

from decimal import Decimal

import pytest

from contracts.messages.common import Address, Customer, Issuer, LineItem
from services.invoices.domain.einvoice_rules import violations
from services.invoices.domain.errors import RuleViolation
from tests.unit.invoices.test_lifecycle import ACCOUNT, draft, who

SELLER = Issuer(company_name="Acme", email="billing@acme.example", address=Address(country="DE"),
                tax_id="DE143454214")
BUYER = Customer(name="Globex", address=Address(country="FR"))
STANDARD = LineItem(description="Work", quantity=Decimal(1), unit_amount=1000, tax_rate=Decimal(19))
ZERO = LineItem(description="Export", quantity=Decimal(1), unit_amount=1000, tax_rate=Decimal(0))


def broken(issuer: Issuer = SELLER, customer: Customer = BUYER, lines=(STANDARD,)) -> list[str]:
    return [violation.split(":")[0] for violation in violations(issuer, customer, list(lines))]


def without_tax_id(issuer: Issuer = SELLER) -> Issuer:
    return issuer.model_copy(update={"tax_id": ""})


def test_a_valid_invoice_breaks_no_rule():
    assert broken() == [] and broken(lines=[ZERO]) == []


def test_br_s_02_a_line_with_vat_needs_the_sellers_vat_identifier():
    [sentence] = violations(without_tax_id(), BUYER, [STANDARD, ZERO])
    assert sentence.startswith("BR-S-02: ") and "company_tax_id" in sentence


def test_br_z_02_zero_rated_lines_need_the_sellers_vat_identifier_too():
    assert broken(without_tax_id(), lines=[ZERO]) == ["BR-Z-02"]


def test_a_tax_registration_that_is_no_vat_identifier_satisfies_the_category_rules():
    # A German Steuernummer: stated as a tax registration (BT-32), which BR-S-02 accepts.
    assert broken(SELLER.model_copy(update={"tax_id": "143/456/78901"})) == []


def test_br_09_and_br_11_both_parties_need_a_country():
    assert broken(SELLER.model_copy(update={"address": Address(city="Berlin")}),
                  BUYER.model_copy(update={"address": Address()})) == ["BR-09", "BR-11"]


@pytest.mark.parametrize("country", ["ZZ", "EU", "XK", "UN"])
def test_br_cl_14_a_country_code_is_an_iso_3166_country(country):
    assert broken(customer=BUYER.model_copy(update={"address": Address(country=country)})) == ["BR-CL-14"]


@pytest.mark.parametrize("tax_id", [
    "DE143454214", "DE129274202", "IE6388047V", "LU20260743", "FR40303265045",  # as their companies print them
    "de 143 454 214",  # spaced and in lower case, as people type it
    "EL094014201",  # Greece's prefix is EL
])
def test_real_vat_identifiers_pass(tax_id):
    assert broken(SELLER.model_copy(update={"tax_id": tax_id})) == []


@pytest.mark.parametrize(("tax_id", "why"), [
    ("QQ123456789", "does not start with a country code"),
    ("DE143454215", "no valid VAT number of DE"),  # SAP's with its check digit changed
    ("FR40303265046", "no valid VAT number of FR"),
    ("DE12345", "no valid VAT number of DE"),  # too short
])
def test_br_co_09_a_vat_identifier_has_a_country_prefix_and_the_countrys_form(tax_id, why):
    [sentence] = violations(SELLER.model_copy(update={"tax_id": tax_id}), BUYER, [STANDARD])
    assert sentence.startswith("BR-CO-09: the seller's") and why in sentence


def test_the_buyers_vat_identifier_is_judged_too():
    assert broken(customer=BUYER.model_copy(update={"tax_id": "FR40303265046"})) == ["BR-CO-09"]


def test_finalizing_refuses_with_every_rule_named_and_allocates_no_number():
    account = ACCOUNT.model_copy(update={"company_tax_id": "", "company_address": Address()})
    invoice = draft()  # a 19 % line
    invoice.take_recorded()
    with pytest.raises(RuleViolation) as refused:
        invoice.request_finalization(account, "acct/x", **who())
    assert refused.value.reason == "einvoice_rule_violation"
    assert str(refused.value.message).startswith("BR-09: ") and "BR-S-02: " in refused.value.message
    assert invoice.take_recorded() == []  # no number.allocate
    assert (invoice.status, invoice.pending_finalization, invoice.issuer) == ("draft", None, None)


@pytest.mark.parametrize("tax_id", ["DE143454214", "DE129274202", "IE6388047V", "LU20260743", "FR40303265045"])
def test_any_one_digit_changed_in_a_real_vat_identifier_is_refused(tax_id):
    for position, char in enumerate(tax_id):
        if char.isdigit():
            typo = tax_id[:position] + str((int(char) + 1) % 10) + tax_id[position + 1:]
            assert broken(SELLER.model_copy(update={"tax_id": typo})) == ["BR-CO-09"], typo
