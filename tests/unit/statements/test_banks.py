"""MT940 in the layouts of the banks our users send files from (tests/samples/statements/README.md
says which public layout each file imitates): every booking is published or reported, amounts
exact, lines right, and what the payer wrote read whole."""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from cli.statements import read_statements
from cli.statements.transactions import Reported, classify
from contracts.messages.payments import BankTransactionReceived

SAMPLES = Path(__file__).parents[2] / "samples" / "statements"


@dataclass(frozen=True)
class Published:
    amount: int
    remittance: str
    debtor_name: str = ""
    debtor_iban: str | None = None
    end_to_end_id: str = ""


def read(name: str) -> tuple[int, list[Published], list[tuple[int, str]]]:
    """How many statements, what is published, and (line, reason) of what is reported."""
    statements = read_statements(SAMPLES / name)
    found = [o for statement in statements for o in classify(statement)]
    published = [
        Published(o.amount, o.remittance_information, o.debtor_name, o.debtor_iban, o.end_to_end_id)
        for o in found if isinstance(o, BankTransactionReceived)
    ]
    reported = [(int(o.where.rsplit(" ", 1)[1]), o.reason) for o in found if isinstance(o, Reported)]
    assert len(found) == sum(len(s.bookings) for s in statements)
    return len(statements), published, reported


BANKS = {
    # ABN AMRO: header lines, an account number (no IBAN) in :25:, "845," amounts, a statement in
    # two pages (:62M: then :60M:), a blank line inside a booking.
    "mt940-abnamro.sta": (1, [], [(8, "debit"), (10, "account_not_iban"), (23, "debit")]),
    # ASN Bank: SWIFT blocks, the payer's 18-character IBAN as customer reference, lines padded to
    # 65 and codes cut inside words, a statement without bookings.
    "mt940-asn.sta": (2, [Published(125_000, "Factuur INV-2026-00032 RF15 INV2 0260 0032", "BAKKERIJ VAN DER WERF",
                                    None, "BVDW-0032")], [(12, "debit")]),
    "mt940-ing.sta": (1, [Published(61_250, "INV-2026-00033 RF85INV202600033", "Tuinbouw Hendriks BV",
                                    "NL66RABO0114489713", "ORD-7781")], [(12, "debit")]),
    # Rabobank: zero-padded amounts, the payer's IBAN on the line after :61:, no terminator.
    "mt940-rabobank.sta": (2, [
        Published(98_000, "Betaling factuur INV-2026-00034", "Drukkerij Okkerse VOF", "NL84INGB0006612453",
                  "20261204-0034"),
        Published(7_525, "RF58 INV2 0260 0034 px", "Hr P de Ruiter", "NL66RABO0114489713"),
    ], [(12, "debit")]),
    # Rabobank before SEPA: decimal points, one :86: per line of text, an account number.
    "mt940-rabobank-dots.sta": (1, [], [(6, "account_not_iban"), (9, "debit")]),
    "mt940-triodos.sta": (1, [Published(41_000, "FACTUUR INV-2026-00036 RF04INV202600036 DANK U WEL",
                                        "STICHTING DE LINDEBOOM")], [(9, "debit")]),
    # Knab: "1500," and "35" (no separator), codes cut short of 65 characters.
    "mt940-knab.sta": (1, [Published(150_000, "INV-2026-00037 EN INV-2026-00038", "VAN DIJK ARCHITECTEN",
                                     "NL66RABO0114489713")], [(10, "debit")]),
    "mt940-bunq.sta": (1, [
        Published(25_000, "RF74INV202600037", "M. Verhoeven", "NL95INGB0004409870"),
        Published(30, "Interest payment", "bunq", "NL82BUNQ2041557783"),
    ], [(10, "debit"), (12, "debit")]),
    # A Sparkasse: ISO 8859-1, CRLF, bank code and account number, ?-subfields cut anywhere, pages.
    "mt940-sparkasse.sta": (1, [Published(119_000, "Rechnung INV-2026-00039 vielen Dank", "Müller Bürobedarf GmbH",
                                          "DE65100700000123456789", "MBK-2026-0039")], [(13, "debit")]),
    "mt940-hsbc.sta": (1, [Published(
        240_000, "/OCMT/EUR2790,70/ PAYMENT OF INVOICE INV-2026-00040 /OGB/NORDIC TIMBER AB BENEFICIARY INFO"
    )], [(10, "debit")]),
    # Zenith Bank: ":28C: /1", no transaction type in :61:, a NUBAN account (no IBAN).
    "mt940-zenith.sta": (1, [], [(6, "account_not_iban"), (8, "debit"), (10, "debit")]),
}


@pytest.mark.parametrize("name", sorted(BANKS))
def test_every_booking_of_a_bank_layout_is_published_or_reported(name):
    assert read(name) == BANKS[name]


def test_the_account_is_the_iban_the_bank_names_in_its_own_way():
    by_file = {name: {s.account for s in read_statements(SAMPLES / name)} for name in (
        "mt940-triodos.sta", "mt940-sparkasse.sta", "mt940-bunq.sta", "mt940-rabobank.sta", "mt940-zenith.sta"
    )}

    assert by_file == {
        "mt940-triodos.sta": {"NL59TRIO0197812240"},  # TRIODOSBANK/0197812240
        "mt940-sparkasse.sta": {"DE09500502010204417391"},  # 50050201/0204417391
        "mt940-bunq.sta": {"NL82BUNQ2041557783"},  # with " EUR"
        "mt940-rabobank.sta": {"NL90RABO0325117409"},
        "mt940-zenith.sta": {"1018842267"},
    }


def test_amounts_with_a_decimal_point_are_exact():
    [statement] = read_statements(SAMPLES / "mt940-rabobank-dots.sta")

    assert [(b.amount, b.credit, b.remittance_information) for b in statement.bookings] == [
        (Decimal("2345.67"), True, "FACTUUR INV-2026-00035 TERMIJN 2 VAN 3"),
        (Decimal("99.99"), False, "BESTELLING 88120"),
    ]
