"""A payer's name broken over lines by its bank is published as one line, not refused."""

from datetime import date
from decimal import Decimal

from cli.statements.model import Booking, Statement
from cli.statements.transactions import Reported, classify


def statement(name: str) -> Statement:
    booking = Booking(where="line 7", reference="REF1", detail=None, amount=Decimal("10.50"), currency="EUR",
                      credit=True, booked=True, booked_on=date(2026, 11, 2), remittance_information="RF18539007547034",
                      debtor_name=name)
    return Statement(where="statement 1", statement_id="S1", account="NL91ABNA0417164300", currency="EUR",
                     bookings=[booking])


def test_a_name_the_bank_broke_over_lines_is_published_on_one_line():
    [published] = classify(statement("Jansen Installatie-\r\n  techniek B.V.\n"))
    assert published.debtor_name == "Jansen Installatie- techniek B.V."


def test_a_name_with_a_nul_is_reported_not_published():
    [reported] = classify(statement("Jansen\x00B.V."))
    assert isinstance(reported, Reported) and reported.reason == "invalid"
