import pytest

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


def test_bases_must_fit_the_standard():
    with pytest.raises(ValueError):
        creditor_reference("A" * 22)
    with pytest.raises(ValueError):
        creditor_reference("---")


@pytest.mark.parametrize(
    ("iban", "valid"),
    [("DE89 3704 0044 0532 0130 00", True), ("GB82WEST12345698765432", True), ("DE89370400440532013001", False), ("XX00", False)],
)
def test_iban_checksum(iban, valid):
    assert is_valid_iban(iban) is valid


@pytest.mark.parametrize(("amount", "currency", "text"), [(123456, "EUR", "1234.56"), (1234, "JPY", "1234"),
                                                        (1234, "KWD", "1.234"), (-5, "EUR", "-0.05")])
def test_amounts_use_the_currency_exponent(amount, currency, text):
    assert format_amount(amount, currency) == text
    assert minor_unit_exponent("JPY") == 0
