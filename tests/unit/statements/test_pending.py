"""Pending credits in bank notifications: camt.054 and camt.052 entries with status PDNG (a bare
code up to version 06, `Sts/Cd` from 07) become bank_transaction.pending, with their value date;
the booked entries of the same files are published as before, and the rest reported."""

from datetime import date
from pathlib import Path

import pytest

from cli.statements import MalformedStatement, read_statements
from cli.statements.transactions import Reported, classify
from contracts.messages.payments import BankTransactionPending, BankTransactionReceived

SAMPLES = Path(__file__).parents[2] / "samples" / "statements"


def split(name: str | Path) -> tuple[list, list, list]:
    found = [o for statement in read_statements(SAMPLES / name) for o in classify(statement)]
    return ([o for o in found if isinstance(o, BankTransactionPending)],
            [o for o in found if isinstance(o, BankTransactionReceived)],
            [(o.transaction_id, o.reason) for o in found if isinstance(o, Reported)])


def test_a_version_08_notification_announces_its_pending_credit_beside_a_booked_one():
    pending, booked, reported = split("camt054.001.08-pending.xml")

    [announced] = pending
    assert announced.model_dump(exclude_none=True) == {
        "transaction_id": "DE89370400440532013000:2026111900017", "iban": "DE89370400440532013000",
        "amount": 12_000, "currency": "EUR", "value_date": date(2026, 11, 20),
        "remittance_information": "Invoice INV-2026-00001", "debtor_name": "Acme GmbH",
        "debtor_iban": "DE02120300000000202051", "end_to_end_id": "E2E-ACME-1",
    }
    assert [(b.transaction_id, b.amount, b.booked_on) for b in booked] == [
        ("DE89370400440532013000:2026111900018", 3_500, date(2026, 11, 19))]
    # A pending debit is a debit: reported, never announced.
    assert reported == [("DE89370400440532013000:2026111900019", "debit")]


def test_a_version_04_notification_has_the_bare_status_code():
    pending, booked, reported = split("camt054.001.04.xml")

    assert [(p.amount, p.currency, p.value_date, p.debtor_name, p.debtor_iban) for p in pending] == [
        (245_000, "CHF", date(2026, 11, 20), "Bernhard Holzbau GmbH", "CH5604835012345678009")]
    assert [(b.amount, b.booked_on) for b in booked] == [(31_050, date(2026, 11, 19))]
    # Information only (INFO) is neither booked nor announced.
    assert [reason for _, reason in reported] == ["not_booked"]
    # The bank's reference has a character ids cannot carry: hashed, as for a booked entry.
    assert pending[0].transaction_id.startswith("CH9300762011623852957::")


def test_an_intraday_report_of_version_02_announces_a_pending_entry_without_reference():
    pending, booked, reported = split("camt052.001.02.xml")

    [announced] = pending
    assert (announced.amount, announced.value_date, announced.remittance_information) == (
        8_925, date(2026, 11, 20), "RE 2026-119 RF71INV202600052")
    # No bank reference (a German Vormerkposten): named after what it says, so importing the
    # report again, or a later report with it, names it the same.
    assert announced.transaction_id.startswith("DE75512108001245126199:::") and announced.transaction_id.endswith(":1")
    assert split("camt052.001.02.xml")[0][0].transaction_id == announced.transaction_id
    assert [(b.transaction_id, b.amount) for b in booked] == [("DE75512108001245126199:2026111904711", 25_000)]
    assert reported == []


def test_an_intraday_report_of_version_08_takes_its_currency_from_its_entries():
    pending, booked, _ = split("camt052.001.08.xml")

    assert [(p.transaction_id, p.amount, p.currency, p.remittance_information) for p in pending] == [
        ("NL66RABO0114489713:RABO-20261119-88412", 123_000, "EUR", "RF36INV202600042")]
    assert [b.transaction_id for b in booked] == ["NL66RABO0114489713:RABO-20261119-88377"]


def test_a_pending_credit_in_another_currency_is_reported(tmp_path):
    path = tmp_path / "usd.xml"
    path.write_text((SAMPLES / "camt054.001.08-pending.xml").read_text().replace(
        '<Amt Ccy="EUR">120.00</Amt>', '<Amt Ccy="USD">120.00</Amt>'))

    pending, _, reported = split(path)

    assert pending == [] and ("DE89370400440532013000:2026111900017", "other_currency") in reported


@pytest.mark.parametrize(("name", "change", "reason"), [
    # The summary counts pending entries too: one changed is caught.
    ("camt054.001.08-pending.xml", ('<Amt Ccy="EUR">120.00</Amt>', '<Amt Ccy="EUR">121.00</Amt>'),
     "the summary says 2 entries of 155.00, the entries are 2 of 156.00"),
    ("camt052.001.02.xml", ("<Dt>2026-11-20</Dt>", "<Dt>2026-11-31</Dt>"), "not an ISO date"),
    ("camt052.001.08.xml", ("<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>", "<Sts>"), "CdtDbtInd is missing"),
    ("camt052.001.08.xml", ("<Rpt>", "<Stmt>"), "not well-formed XML"),
])
def test_a_malformed_notification_or_report_is_refused(tmp_path, name, change, reason):
    path = tmp_path / name
    path.write_text((SAMPLES / name).read_text().replace(*change, 1))

    with pytest.raises(MalformedStatement) as refused:
        read_statements(path)
    assert reason in refused.value.reason
