"""EN 16931 business rules checked at finalization (services.invoices.domain.einvoice_rules): an
invoice that would make an invalid e-invoice is refused, naming the rule, before it is numbered."""

from decimal import Decimal

import pytest

from contracts.messages.common import Address, Customer, Issuer, LineItem
from services.invoices.domain.einvoice_rules import violations
from services.invoices.domain.errors import RuleViolation
from tests.unit.invoices.test_lifecycle import ACCOUNT, LINKS, draft, who

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


REVERSE_CHARGE = ZERO.model_copy(update={"tax_exemption": "VATEX-EU-AE"})
EXPORT = ZERO.model_copy(update={"tax_exemption": "VATEX-EU-G"})
EXEMPT = ZERO.model_copy(update={"tax_exemption": "VATEX-EU-132"})
BUYER_WITH_VAT_ID = BUYER.model_copy(update={"tax_id": "FR40303265045"})
TAX_REGISTRATION = SELLER.model_copy(update={"tax_id": "143/456/78901"})


def test_exemptions_are_their_own_categories_and_valid_with_what_they_need():
    assert broken(customer=BUYER_WITH_VAT_ID, lines=[STANDARD, REVERSE_CHARGE, EXPORT, EXEMPT]) == []


def test_br_ae_02_reverse_charge_needs_both_parties_vat_identifiers():
    assert broken(customer=BUYER, lines=[REVERSE_CHARGE]) == ["BR-AE-02"]  # the buyer has none
    assert broken(TAX_REGISTRATION, BUYER_WITH_VAT_ID, lines=[REVERSE_CHARGE]) == ["BR-AE-02"]  # not a VAT id
    [sentence] = violations(SELLER, BUYER, [REVERSE_CHARGE])
    assert "buyer's VAT identifier" in sentence


def test_br_g_02_an_export_needs_the_sellers_vat_identifier_and_br_e_02_any_tax_registration():
    assert broken(TAX_REGISTRATION, lines=[EXPORT]) == ["BR-G-02"]
    assert broken(TAX_REGISTRATION, lines=[EXEMPT]) == []
    assert broken(without_tax_id(), lines=[EXEMPT]) == ["BR-E-02"]


@pytest.mark.parametrize(("line", "rule"), [(REVERSE_CHARGE, "BR-AE-05"), (EXPORT, "BR-G-05"), (EXEMPT, "BR-E-05")])
def test_a_line_with_an_exemption_has_no_vat(line, rule):
    taxed = line.model_copy(update={"tax_rate": Decimal(19)})
    assert broken(customer=BUYER_WITH_VAT_ID, lines=[taxed]) == [rule]


def test_br_e_01_one_exemption_per_invoice():
    other = ZERO.model_copy(update={"tax_exemption": "VATEX-EU-143"})
    assert broken(lines=[EXEMPT, other]) == ["BR-E-01"] and broken(lines=[EXEMPT, EXEMPT]) == []


def test_a_reverse_charged_invoice_keeps_its_exemption_through_finalization_and_needs_the_buyers_vat_id():
    invoice = draft(lines=[REVERSE_CHARGE])
    with pytest.raises(RuleViolation) as refused:
        invoice.request_finalization(ACCOUNT, "acct/x", **who())
    assert refused.value.message.startswith("BR-AE-02: ")
    invoice.customer = invoice.customer.model_copy(update={"tax_id": "FR40303265045"})
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    invoice.finalize("INV-9", links=LINKS, **who())
    [line] = invoice.snapshot().lines
    assert (line.tax_exemption, line.tax_amount, invoice.snapshot().tax) == ("VATEX-EU-AE", 0, 0)
