"""MT940 sample files in the dialects read: German (structured :86: with ?-subfields, bank code and
account number or IBAN in :25:, several statements in one file), SWIFT codes (Dutch banks, IBAN
with currency in :25:, SWIFT block wrapper) and unstructured :86: text."""

from datetime import date
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
