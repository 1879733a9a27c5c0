"""MT940 sample files in the dialects read: German (structured :86: with ?-subfields, bank code and
account number or IBAN in :25:, several statements in one file), SWIFT codes (Dutch banks, IBAN
with currency in :25:, SWIFT block wrapper) and unstructured :86: text."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cli.statements import MalformedStatement, read_statements
from cli.statements.transactions import Reported, classify
from contracts.messages.payments import BankTransactionReceived

SAMPLES = Path(__file__).parents[2] / "samples" / "statements"


def split(name: str) -> tuple[dict[str, BankTransactionReceived], dict[str, str]]:
    found = [o for statement in read_statements(SAMPLES / name) for o in classify(statement)]
    return (
        {o.transaction_id: o for o in found if isinstance(o, BankTransactionReceived)},
        {o.transaction_id: o.reason for o in found if isinstance(o, Reported)},
    )


def test_german_dialect_with_bank_code_and_account_number():
    published, reported = split("mt940-german.sta")

    credit = published["DE89370400440532013000:2611200001"]  # 37040044/0532013000 is this IBAN
    assert (credit.amount, credit.currency, credit.booked_on) == (12_000, "EUR", date(2026, 11, 20))
    # Purpose lines continue one another: the text is the payer's again, words and RF reference whole.
    assert credit.remittance_information == "RF18 5390 0754 7034 Invoice INV-2026-00001"
    assert (credit.debtor_name, credit.debtor_iban, credit.end_to_end_id) == (
        "Acme GmbH", "DE02120300000000202051", "E2E-ACME-1"
    )
    assert reported == {"DE89370400440532013000:2611210002": "debit"}


def test_several_statements_and_bookings_without_a_bank_reference():
    published, reported = split("mt940-german-iban.sta")

    assert published["DE89370400440532013000:2611220003"].remittance_information == "INV-2026-00002 INV-2026-00003"
    assert published["DE89370400440532013000:2611230004"].booked_on == date(2026, 11, 23)
    # Two alike transfers of one day without a reference: named by what they say and their order.
    unreferenced = sorted(tid for tid in published if ":::" in tid)
    assert len(unreferenced) == 2 and [tid[-2:] for tid in unreferenced] == [":1", ":2"]
    assert reported == {}


def test_swift_codes_dialect():
    published, reported = split("mt940-swift-codes.sta")

    credit = published["NL91ABNA0417164300:00000001234567"]
    assert (credit.iban, credit.amount, credit.remittance_information) == (
        "NL91ABNA0417164300", 25_000, "RF18 5390 0754 7034 INV-2026-00009"
    )
    assert (credit.debtor_name, credit.debtor_iban, credit.end_to_end_id) == (
        "Hooli BV", "NL44RABO0123456789", "E2E-HOOLI-9"
    )
    assert reported == {"NL91ABNA0417164300:00000001234568": "debit"}


def test_unstructured_details_are_the_remittance_text():
    published, reported = split("mt940-unstructured.sta")

    credit = published["GB82WEST12345698765432:GB22110001"]
    assert (credit.amount, credit.currency) == (123_450, "GBP")
    assert credit.remittance_information == "FASTER PAYMENT FROM PIED PIPER LTD REF INV-2026-00010 RF18539007547034"
    assert published["GB82WEST12345698765432:GB22110002"].amount == 50
    assert reported == {"GB82WEST12345698765432:GB22110003": "reversal"}


@pytest.mark.parametrize(("change", "line", "reason"), [
    ((":61:2611211121DR45,50", ":61:2611211121XR45,50"), 8, "field :61: does not follow its format"),
    ((":60F:C261119EUR1000,00\n", ""), 4, "before any :60F: or :60M: opening balance"),
    ((":25:37040044/0532013000\n", ""), 1, "no :25: account identification"),
])
def test_a_malformed_file_is_refused_with_its_line_and_reason(tmp_path, change, line, reason):
    path = tmp_path / "broken.sta"
    path.write_text((SAMPLES / "mt940-german.sta").read_text().replace(*change))

    with pytest.raises(MalformedStatement) as refused:
        read_statements(path)

    assert refused.value.where.startswith(f"{path} line {line}")
    assert reason in refused.value.reason


def test_a_file_of_neither_format_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")

    with pytest.raises(MalformedStatement, match="neither camt.053 XML nor MT940"):
        read_statements(path)


DOT_DECIMALS = """:20:S
:25:NL91ABNA0417164300
:28C:1/1
:60F:C230101EUR100.00
:61:230102C10.50NTRFNONREF
:86:first
:61:230102C20.75NTRFNONREF
:86:second
:62F:C230102EUR131.25
-
"""


def read_text(tmp_path, text: str, name: str = "statement.sta"):
    path = tmp_path / name
    path.write_text(text)
    return path, read_statements(path)


def test_amounts_with_a_decimal_point_are_bookings_of_their_own(tmp_path):
    path, [statement] = read_text(tmp_path, DOT_DECIMALS)

    assert [(b.where, b.amount, b.remittance_information) for b in statement.bookings] == [
        (f"{path} line 5", Decimal("10.50"), "first"), (f"{path} line 7", Decimal("20.75"), "second")
    ]
    assert [o.amount for o in classify(statement)] == [1050, 2075]


@pytest.mark.parametrize(("change", "line", "reason"), [
    (("230102C10.50", "231302C10.50"), 5, "'231302' is not a date"),
    (("230102C20.75NTRF", "2301020230C20.75NTRF"), 7, "'0230' is not an entry date"),
    (("C10.50", "C1,234.50"), 5, "field :61: does not follow its format"),
    (("C10.50", "C-10.50"), 5, "field :61: does not follow its format"),
    (("EUR100.00", "EUR1O0.00"), 4, "field :60F: is not a balance"),
    ((":86:second", ":86:sec\x00ond"), 8, "a control character"),
    ((":28C:1/1", ":28C:1/1\nsecond line"), 4, "continues :28C: (one line only)"),
    ((":28C:1/1", ":28C:1/1\n:34F:EURD0,"), 4, "MT942 interim report"),
    ((":62F:C230102EUR131.25\n", ""), 1, "no :62F: or :62M: closing balance"),
    ((":20:S\n", ""), 1, "field :25: outside a statement"),
])
def test_every_malformed_line_refuses_the_file_naming_it(tmp_path, change, line, reason):
    path = tmp_path / "broken.sta"
    path.write_text(DOT_DECIMALS.replace(*change))

    with pytest.raises(MalformedStatement) as refused:
        read_statements(path)

    assert refused.value.where.startswith(f"{path} line {line}")
    assert reason in refused.value.reason


def test_a_statement_that_does_not_add_up_is_refused_naming_both_sums(tmp_path):
    path = tmp_path / "short.sta"
    path.write_text(DOT_DECIMALS.replace("EUR131.25", "EUR131.20"))

    with pytest.raises(MalformedStatement) as refused:
        read_statements(path)

    assert refused.value.where == f"{path} line 9"
    assert refused.value.reason == (
        "the balances do not add up: opening 100.00 + credits 31.25 - debits 0 = 131.25 EUR, "
        "but the closing balance is 131.20 EUR"
    )


def test_a_statement_in_pages_is_one_statement_whose_pages_must_follow_on(tmp_path):
    first = DOT_DECIMALS.replace(":62F:", ":62M:")
    second = ":20:S\n:25:NL91ABNA0417164300\n:28C:1/2\n:60M:C230102EUR131.25\n:61:230102D1.25NTRFNONREF\n:62F:C230102EUR130.00\n-\n"
    _, [statement] = read_text(tmp_path, first + second)
    assert [b.amount for b in statement.bookings] == [Decimal("10.50"), Decimal("20.75"), Decimal("1.25")]

    path = tmp_path / "gap.sta"
    path.write_text(first + second.replace("EUR131.25", "EUR131.00").replace("EUR130.00", "EUR129.75"))
    with pytest.raises(MalformedStatement, match="the page opens with :60M: 131.00 EUR, the page before closed with :62M: 131.25 EUR"):
        read_statements(path)


def test_german_settlements_dated_30_february_are_the_last_day_of_february(tmp_path):
    _, [statement] = read_text(tmp_path, DOT_DECIMALS.replace("230102C10.50", "230230C10.50"))

    assert statement.bookings[0].booked_on == date(2023, 2, 28)


def test_an_entry_date_takes_the_year_nearest_its_value_date(tmp_path):
    _, [statement] = read_text(tmp_path, DOT_DECIMALS.replace("230102C10.50", "2301021231C10.50"))

    assert statement.bookings[0].booked_on == date(2022, 12, 31)
