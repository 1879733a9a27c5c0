"""Ids and amounts of imported transactions: the same file read twice gives the same ids, and an
amount is taken in minor units exactly or not at all."""

from decimal import Decimal
from pathlib import Path

import pytest

from cli.statements import read_statements
from cli.statements.transactions import classify
from contracts.money import to_minor_units

SAMPLES = Path(__file__).parents[2] / "samples" / "statements"


@pytest.mark.parametrize("name", sorted(path.name for path in SAMPLES.iterdir() if path.suffix in (".sta", ".xml")))
def test_reading_a_file_again_gives_the_same_transactions(name):
    def read() -> list:
        return [o for statement in read_statements(SAMPLES / name) for o in classify(statement)]

    assert read() == read()


@pytest.mark.parametrize(("amount", "currency", "minor"), [
    ("99.12000", "EUR", 9_912), ("1500", "JPY", 1_500), ("1.23400", "KWD", 1_234), ("0.00001", "CLF", None),
    ("10.005", "EUR", None), ("1500.5", "JPY", None),
])
def test_amounts_are_taken_exactly_in_minor_units(amount, currency, minor):
    if minor is None:
        with pytest.raises(ValueError, match="more decimals than"):
            to_minor_units(Decimal(amount), currency)
    else:
        assert to_minor_units(Decimal(amount), currency) == minor
