from datetime import date

import pytest
from pydantic import ValidationError

from contracts.messages.invoices import ConfigureAccount
from contracts.messages.payments import BankTransactionReceived
from contracts.money import format_amount, minor_unit_exponent
from contracts.references import (
    creditor_reference,
    creditor_references_in,
    format_in_groups,
    is_valid_creditor_reference,
    is_valid_iban,
)


def test_creditor_reference_matches_the_iso_11649_example():
    # The standard's own example: base 539007547034 gives RF18 5390 0754 7034.
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert format_in_groups("RF18539007547034") == "RF18 5390 0754 7034"


@pytest.mark.parametrize("base", ["INV-2026-00001", "A", "ABCDEFGHIJKLMNOPQRSTU"])
def test_generated_references_validate(base):
    assert is_valid_creditor_reference(creditor_reference(base))


def test_a_typo_or_a_transposition_is_caught():
    reference = creditor_reference("INV202600001")
    typo = reference[:-1] + ("2" if reference[-1] != "2" else "3")
    swapped = reference[:5] + reference[6] + reference[5] + reference[7:]
    assert not is_valid_creditor_reference(typo)
    assert not is_valid_creditor_reference(swapped)


def test_references_are_found_in_free_remittance_text():
    reference = creditor_reference("INV202600001")
    text = f"Payment for {format_in_groups(reference).lower()} thanks, Globex"
    assert creditor_references_in(text) == [reference]
    assert creditor_references_in("RF00 nothing valid here") == []


def test_every_valid_reading_of_a_reference_and_the_words_after_it_is_a_candidate():
    # RF2926120001 and RF2926120001PX both validate: only the invoices can tell which was meant.
    assert creditor_references_in("RF2926120001 px") == ["RF2926120001", "RF2926120001PX"]
    assert creditor_references_in("rf29 2612 0001 px, RF2926120001") == ["RF2926120001", "RF2926120001PX"]


def test_bases_must_fit_the_standard():
    with pytest.raises(ValueError):
        creditor_reference("A" * 22)
    with pytest.raises(ValueError):
        creditor_reference("---")


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "CH9300762011623852957",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "BE71096123456769",
        "IT60X0542811101000000123456",
        "NO9386011117947",
        "de89370400440532013000",
    ],
)
def test_real_ibans_of_several_countries_are_valid(iban):
    assert is_valid_iban(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # a digit mistyped
        # These three pass the MOD 97-10 check digits alone.
        "ZZ8112345678901",  # no such country
        "DE543704004405320130001",  # 23 characters: German IBANs have 22
        "GB55WEST1234569876543A",  # the British account number is digits only
        "DE89-3704-0044-0532-0130-00",
        "XX00",
        "",
    ],
)
def test_ibans_must_fit_their_countrys_format_not_only_the_check_digits(iban):
    assert not is_valid_iban(iban)


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("RF18539007547034", True),
        ("rf18 5390 0754 7034", True),
        ("RF18539007547035", False),
        ("RF18-5390-0754-7034", False),
        ("RF18", False),
        ("RF0A12", False),
        ("XY18539007547034", False),
        ("RF18" + "1" * 22, False),
    ],
)
def test_creditor_references_are_checked_for_shape_and_check_digits(reference, valid):
    assert is_valid_creditor_reference(reference) is valid


@pytest.mark.parametrize(("amount", "currency", "text"), [(123456, "EUR", "1234.56"), (1234, "JPY", "1234"),
                                                        (1234, "KWD", "1.234"), (-5, "EUR", "-0.05")])
def test_amounts_use_the_currency_exponent(amount, currency, text):
    assert format_amount(amount, currency) == text
    assert minor_unit_exponent("JPY") == 0


@pytest.mark.parametrize("iban", ["ZZ8112345678901", "DE543704004405320130001"])
def test_messages_refuse_an_iban_that_only_passes_the_check_digits(iban):
    with pytest.raises(ValidationError, match="not a valid IBAN"):
        ConfigureAccount(account_id="acct_1", payee_iban=iban)
    with pytest.raises(ValidationError, match="not a valid IBAN"):
        BankTransactionReceived(transaction_id="tx-1", iban=iban, amount=1, currency="EUR", booked_on=date(2026, 1, 2))


def test_messages_keep_an_iban_in_its_compact_form():
    assert ConfigureAccount(account_id="acct_1", payee_iban="de89 3704 0044 0532 0130 00").payee_iban == (
        "DE89370400440532013000"
    )
