"""camt.053 sample files, one per version 02 to 08, written from the standard: each has two
statements, a single and a batch credit, a debit, a credit in another currency, one with five
decimals that EUR cannot hold, one with five decimals it can, and a pending credit."""

from datetime import date
from pathlib import Path

import pytest

from cli.statements import MalformedStatement, read_statements
from cli.statements.transactions import Reported, classify
from contracts.messages.payments import BankTransactionPending, BankTransactionReceived

SAMPLES = Path(__file__).parents[2] / "samples" / "statements"
VERSIONS = [f"0{version}" for version in range(2, 9)]
IBAN = "DE89370400440532013000"


def outcomes(path: Path) -> list:
    return [outcome for statement in read_statements(path) for outcome in classify(statement)]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_version_reads_to_the_same_transactions(version):
    found = outcomes(SAMPLES / f"camt053.001.{version}.xml")
    published = {o.transaction_id: o for o in found if isinstance(o, BankTransactionReceived)}
    reported = {o.transaction_id: o.reason for o in found if isinstance(o, Reported)}
    pending = [(o.transaction_id, o.amount, o.value_date) for o in found if isinstance(o, BankTransactionPending)]

    assert sorted(published) == sorted([
        f"{IBAN}:2026112000001", f"{IBAN}:2026112000002:1", f"{IBAN}:2026112000002:2", f"{IBAN}:NTRYREF-0006",
        "GB82WEST12345698765432:GB-0001",
    ])
    single = published[f"{IBAN}:2026112000001"]
    assert (single.amount, single.currency, single.booked_on, single.iban) == (12_000, "EUR", date(2026, 11, 20), IBAN)
    assert single.remittance_information == "Invoice INV-2026-00001 RF18539007547034"
    assert (single.debtor_name, single.debtor_iban, single.end_to_end_id) == (
        "Acme GmbH", "DE02120300000000202051", "E2E-ACME-1"
    )
    batch = [published[f"{IBAN}:2026112000002:{n}"] for n in (1, 2)]
    assert [(p.amount, p.debtor_name, p.end_to_end_id) for p in batch] == [
        (10_000, "Globex AG", "E2E-BATCH-1"), (20_000, "Initech SARL", "")
    ]
    assert published[f"{IBAN}:NTRYREF-0006"].amount == 9_912  # 99.12000 EUR
    assert published["GB82WEST12345698765432:GB-0001"].currency == "GBP"
    assert reported == {
        f"{IBAN}:2026112100003": "debit",
        f"{IBAN}:2026112100004": "other_currency",
        f"{IBAN}:2026112100005": "not_in_minor_units",
    }
    # A statement's pending entry (in neither balance) is announced like a notification's.
    assert pending == [(f"{IBAN}:2026112200007", 2_000, date(2026, 11, 22))]


def test_a_batch_whose_details_do_not_add_up_is_reported_whole(tmp_path):
    sample = (SAMPLES / "camt053.001.08.xml").read_text().replace('<Amt Ccy="EUR">200.00</Amt>', '<Amt Ccy="EUR">199.00</Amt>')
    path = tmp_path / "batch.xml"
    path.write_text(sample)

    reported = [o for o in outcomes(path) if isinstance(o, Reported) and o.reason == "inconsistent"]

    assert [o.transaction_id for o in reported] == [f"{IBAN}:2026112000002:1", f"{IBAN}:2026112000002:2"]
    assert "add up to 299.00" in reported[0].detail


@pytest.mark.parametrize(("change", "line", "reason"), [
    (('<Amt Ccy="EUR">120.00</Amt>', '<Amt Ccy="EUR">120.000001</Amt>'), 48, "at most 18 digits, 5 of them decimals"),
    (('<Amt Ccy="EUR">120.00</Amt>', '<Amt Ccy="eur">120.00</Amt>'), 48, "not a three-letter code"),
    (("<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>"), 201, "neither CRDT nor DBIT"),
    (("<Dt>2026-11-21</Dt>", "<Dt>2026-11-31</Dt>"), 206, "not an ISO date"),
    (("</Ntry>", "</Entry>"), 111, "not well-formed XML"),
    (("camt.053.001.08", "camt.055.001.08"), 2, "not a camt.052, camt.053 or camt.054 document"),
    (("camt.053.001.08", "camt.052.001.08"), 2, "BkToCstmrAcctRpt is missing"),
])
def test_a_malformed_file_is_refused_with_its_line_and_reason(tmp_path, change, line, reason):
    path = tmp_path / "broken.xml"
    path.write_text((SAMPLES / "camt053.001.08.xml").read_text().replace(*change, 1))

    with pytest.raises(MalformedStatement) as refused:
        read_statements(path)

    assert refused.value.where.startswith(f"{path} line {line}")
    assert reason in refused.value.reason


def test_a_missing_required_element_is_named():
    content = (SAMPLES / "camt053.001.04.xml").read_bytes().replace(b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>", b"<Sts>", 1)
    from cli.statements import camt053

    with pytest.raises(MalformedStatement) as refused:
        camt053.read(content, "file.xml")

    assert "<Document/BkToCstmrStmt/Stmt/Ntry>" in refused.value.where and refused.value.reason == "CdtDbtInd is missing"


def test_a_statement_whose_balances_do_not_add_up_is_refused_naming_both_sums(tmp_path):
    path = tmp_path / "altered.xml"
    path.write_text((SAMPLES / "camt053.001.08.xml").read_text().replace('<Amt Ccy="EUR">45.50</Amt>', '<Amt Ccy="EUR">54.50</Amt>'))

    with pytest.raises(MalformedStatement) as refused:
        read_statements(path)

    assert refused.value.where.startswith(f"{path} line 35 <Document/BkToCstmrStmt/Stmt/Bal>")
    assert refused.value.reason == (
        "the balances do not add up: opening 1000.00 + credits 529.12500 - debits 54.50 = 1474.62500 EUR, "
        "but the closing balance is 1483.625 EUR"
    )


def test_a_statement_without_its_closing_balance_is_refused(tmp_path):
    path = tmp_path / "open.xml"
    path.write_text((SAMPLES / "camt053.001.03.xml").read_text().replace("<Cd>CLBD</Cd>", "<Cd>CLAV</Cd>", 1))

    with pytest.raises(MalformedStatement, match=r"lacks its opening \(OPBD or PRCD\) or closing \(CLBD\)"):
        read_statements(path)


def test_a_notification_has_no_balances_and_its_entries_add_up_to_its_summary(tmp_path):
    found = outcomes(SAMPLES / "camt054.001.08.xml")

    published = [(o.transaction_id, o.amount, o.remittance_information, o.debtor_name) for o in found
                 if isinstance(o, BankTransactionReceived)]
    assert published == [
        ("NL84INGB0006612453:20261212000101", 25_000, "RF36INV202600042", "Van der Wal Transport BV"),
        ("NL84INGB0006612453:20261212000102", 10_000, "Invoice INV-2026-00043, part 1", ""),
    ]
    assert [(o.transaction_id, o.reason) for o in found if isinstance(o, Reported)] == [
        ("NL84INGB0006612453:20261212000103", "debit")
    ]

    path = tmp_path / "summary.xml"
    path.write_text((SAMPLES / "camt054.001.08.xml").read_text().replace("<Sum>350.00</Sum>", "<Sum>350.01</Sum>"))
    with pytest.raises(MalformedStatement) as refused:
        read_statements(path)
    assert refused.value.where.startswith(f"{path} line 21 <Document/BkToCstmrDbtCdtNtfctn/Ntfctn/TxsSummry/TtlCdtNtries>")
    assert refused.value.reason == "the summary says 2 entries of 350.01, the entries are 2 of 350.00"
