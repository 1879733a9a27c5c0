"""Every invoice number, of any length, gets a valid RF creditor reference of its own."""

import pytest

from contracts.references import is_valid_creditor_reference
from services.invoices.domain.payment_reference import payment_reference_for


def test_a_number_that_fits_reads_as_the_reference():
    assert payment_reference_for("INV-2026-00001") == "RF76INV202600001"


@pytest.mark.parametrize("number", [
    "ACMEWIDGETSLONGPREFIX-2026-000001",
    "A-VERY-LONG-PREFIX-THAT-NEVER-ENDS-2026-11-0000000001",
    "INV-2026-" + "9" * 30,  # a sequence that outgrew its padding long ago
])
def test_a_number_too_long_for_a_reference_still_gets_a_valid_one_that_keeps_its_sequence(number):
    reference = payment_reference_for(number)
    assert is_valid_creditor_reference(reference)
    assert len(reference) <= 25
    assert reference.endswith(number.replace("-", "")[-13:])


def test_long_numbers_that_differ_only_early_get_different_references():
    first = payment_reference_for("ACMEWIDGETSLONGPREFIX-EU-2026-000001")
    second = payment_reference_for("ACMEWIDGETSLONGPREFIX-US-2026-000001")
    assert first != second


def test_a_number_without_letters_or_digits_has_no_reference():
    with pytest.raises(ValueError):
        payment_reference_for("--")
