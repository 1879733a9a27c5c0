"""The matching rules of payments, without servers."""

from datetime import date

import pytest

from contracts.references import creditor_reference, format_in_groups
from services.payments.domain.matching import (
    AwaitingInvoice,
    Match,
    NoMatch,
    RemittanceReferences,
    match_transaction,
    names_of,
)
from services.payments.domain.model import InvoiceView, PaymentRefused, check_payable
from services.payments.domain.transactions import BankTransaction

ACCOUNT = "acct_1"
IBAN = "DE89370400440532013000"
OTHER_IBAN = "GB82WEST12345698765432"


def invoice(number: str | None = "INV-2025-00001", **fields) -> InvoiceView:
    values = {
        "id": f"inv_{number}",
        "account_id": ACCOUNT,
        "number": number,
        "status": "open",
        "currency": "EUR",
        "amount_remaining": 10_000,
        "payee_iban": IBAN,
        "payment_reference": creditor_reference(number) if number else None,
        "version": 2,
    }
    return InvoiceView(**{**values, **fields})


def transaction(remittance: str, **fields) -> BankTransaction:
    values = {
        "transaction_id": "tx-1",
        "account_id": ACCOUNT,
        "iban": IBAN,
        "amount": 10_000,
        "currency": "EUR",
        "booked_on": date(2025, 3, 1),
        "remittance_information": remittance,
    }
    return BankTransaction(**{**values, **fields})


def match(remittance: str, candidates: list[InvoiceView], **fields) -> Match | NoMatch:
    paid = transaction(remittance, **fields)
    return match_transaction(paid, candidates, {c.payee_iban for c in candidates if c.account_id == paid.account_id})


REFERENCE = creditor_reference("INV-2025-00001")
DRAFT = invoice(None, status="draft", version=1)


class TestByCreditorReference:
    @pytest.mark.parametrize(
        "remittance",
        [
            REFERENCE,
            REFERENCE.lower(),
            format_in_groups(REFERENCE),
            format_in_groups(REFERENCE).lower(),
            f"Payment {format_in_groups(REFERENCE)} thanks",
            f"{REFERENCE[:4]} {REFERENCE[4:]}",
        ],
    )
    def test_the_reference_matches_however_it_is_spaced_or_cased(self, remittance):
        target = invoice()
        assert match(remittance, [target]) == Match(target)

    def test_a_reference_with_a_wrong_check_digit_is_no_reference(self):
        broken = REFERENCE[:2] + f"{(int(REFERENCE[2:4]) + 1) % 100:02d}" + REFERENCE[4:]
        assert match(broken, [invoice()]) == AwaitingInvoice("no_reference")

    def test_a_valid_reference_of_no_known_invoice_is_an_unknown_reference(self):
        assert match(creditor_reference("SOMETHINGELSE"), [invoice()]) == AwaitingInvoice("unknown_reference")

    @pytest.mark.parametrize(("remittance", "meant"), [
        ("RF2926120001 px", "RF2926120001"),  # the next word extends it to RF2926120001PX, also valid
        ("RF29 2612 0001 px thanks", "RF2926120001PX"),
    ])
    def test_a_reference_the_next_word_extends_to_another_valid_one_matches_the_invoice_known(
        self, remittance, meant
    ):
        target = invoice(payment_reference=meant)
        assert RemittanceReferences.of(remittance).creditor_references == {"RF2926120001", "RF2926120001PX"}
        assert match(remittance, [target]) == Match(target)

    def test_an_invoice_without_a_reference_can_still_match_by_number(self):
        target = invoice(payment_reference=None)
        assert match("INV-2025-00001", [target]) == Match(target)


class TestByInvoiceNumber:
    @pytest.mark.parametrize(
        "remittance",
        [
            "INV-2025-00001",
            "inv-2025-00001",
            "Invoice INV-2025-00001, thank you",
            "Payment for INV-2025-00001.",
            "(INV-2025-00001)",
            "ref:INV-2025-00001",
        ],
    )
    def test_the_number_matches_as_a_whole_word_in_any_case(self, remittance):
        target = invoice()
        assert match(remittance, [target]) == Match(target)

    @pytest.mark.parametrize(
        "remittance",
        [
            "INV-2025-000012",
            "XINV-2025-00001",
            "INV-2025-00001-2",
            "INV-2025-00001/B",
            "INV2025-00001",
            "INV-2025-0000",
        ],
    )
    def test_a_number_inside_a_longer_word_does_not_match(self, remittance):
        assert match(remittance, [invoice()]) == AwaitingInvoice("no_reference")

    def test_a_short_number_does_not_match_a_longer_one(self):
        short = invoice("7", payment_reference=None)
        assert match("Invoice 17 and 70", [short]) == AwaitingInvoice("no_reference")
        assert match("Invoice 7", [short]) == Match(short)

    def test_no_text_is_no_reference(self):
        assert match("", [invoice()]) == AwaitingInvoice("no_reference")


class TestWhereTheMoneyWent:
    def test_a_credit_to_an_iban_no_invoice_asks_for_is_an_unknown_iban(self):
        assert match(REFERENCE, [invoice()], iban=OTHER_IBAN) == NoMatch("unknown_iban")

    def test_a_transfer_before_any_invoice_is_known_waits_for_the_reference_not_for_the_iban(self):
        assert match(REFERENCE, []) == AwaitingInvoice("unknown_reference")
        assert match_transaction(transaction(REFERENCE), [], {IBAN}) == AwaitingInvoice("unknown_reference")

    def test_a_credit_to_an_iban_the_account_does_not_use_naming_nothing_known_is_an_unknown_iban(self):
        assert match_transaction(transaction(REFERENCE), [], {OTHER_IBAN}) == AwaitingInvoice("unknown_iban")

    def test_the_named_invoice_must_ask_for_the_credited_iban(self):
        # The account uses both IBANs, but the named invoice asks to be paid to the other one.
        named = invoice(payee_iban=OTHER_IBAN)
        other = invoice("INV-2025-00002")
        assert match(REFERENCE, [named, other]) == NoMatch("iban_mismatch")

    def test_an_invoice_of_another_account_never_matches(self):
        foreign = invoice(account_id="acct_2")
        paid = transaction(REFERENCE)
        assert match_transaction(paid, [foreign], {IBAN}) == AwaitingInvoice("unknown_reference")

    def test_an_invoice_without_a_payee_iban_never_matches(self):
        assert match(REFERENCE, [invoice(payee_iban=None)]) == NoMatch("unknown_iban")


class TestOutOfOrder:
    """A transfer can arrive before payments has read the invoice it names."""

    @pytest.mark.parametrize("remittance", [REFERENCE, "Invoice INV-2025-00001", "thanks"])
    def test_only_a_transfer_naming_no_known_invoice_waits_for_one(self, remittance):
        assert isinstance(match(remittance, []), AwaitingInvoice)

    @pytest.mark.parametrize(
        ("target", "fields"),
        [(invoice(status="paid"), {}), (invoice(), {"currency": "USD"}), (invoice(payee_iban=OTHER_IBAN), {}),
         (invoice(), {"iban": OTHER_IBAN})],
    )
    def test_a_transfer_a_known_invoice_refused_waits_for_a_person_only(self, target, fields):
        outcome = match(REFERENCE, [target, invoice("INV-2025-00002")], **fields)
        assert isinstance(outcome, NoMatch) and not isinstance(outcome, AwaitingInvoice)

    @pytest.mark.parametrize("remittance", [f"Rechnung {format_in_groups(REFERENCE)}", "for inv-2025-00001."])
    def test_a_waiting_transfer_is_found_by_the_invoice_and_then_matches_it(self, remittance):
        target = invoice()
        waiting = RemittanceReferences.of(remittance).names

        assert not waiting.isdisjoint(names_of(target))
        assert match(remittance, [target]) == Match(target)

    def test_a_waiting_transfer_is_not_found_by_an_invoice_it_does_not_name(self):
        assert RemittanceReferences.of(REFERENCE).names.isdisjoint(names_of(invoice("INV-2025-00002")))

    def test_a_draft_has_no_name_a_transfer_could_carry(self):
        assert names_of(DRAFT) == frozenset()


class TestInvoiceState:
    @pytest.mark.parametrize("status", ["paid", "void"])
    def test_a_closed_invoice_does_not_take_the_payment(self, status):
        assert match(REFERENCE, [invoice(status=status)]) == NoMatch("invoice_not_open")

    def test_an_uncollectible_invoice_takes_a_late_payment(self):
        target = invoice(status="uncollectible")
        assert match(REFERENCE, [target]) == Match(target)

    def test_the_currency_must_be_the_invoices(self):
        assert match(REFERENCE, [invoice()], currency="USD") == NoMatch("currency_mismatch")

    def test_a_closed_invoice_is_reported_before_a_currency_difference(self):
        assert match(REFERENCE, [invoice(status="void")], currency="USD") == NoMatch("invoice_not_open")


class TestAmountDecidesNothing:
    @pytest.mark.parametrize("amount", [1, 5_000, 9_999, 10_000, 10_001, 1_000_000])
    def test_partial_exact_and_overpayments_all_match(self, amount):
        target = invoice()
        assert match(REFERENCE, [target], amount=amount) == Match(target)


class TestSeveralCandidates:
    def test_the_named_invoice_is_chosen_among_others(self):
        invoices = [invoice(f"INV-2025-{n:05d}") for n in range(1, 6)]
        assert match(creditor_reference("INV-2025-00003"), invoices) == Match(invoices[2])
        assert match("for INV-2025-00004", invoices) == Match(invoices[3])

    def test_reference_and_number_of_the_same_invoice_match_it_once(self):
        target = invoice()
        assert match(f"{REFERENCE} INV-2025-00001", [target, invoice("INV-2025-00002")]) == Match(target)

    def test_a_closed_invoice_named_alongside_an_open_one_leaves_the_open_one(self):
        paid = invoice("INV-2025-00001", status="paid")
        open_ = invoice("INV-2025-00002")
        assert match("INV-2025-00001 INV-2025-00002", [paid, open_]) == Match(open_)

    def test_an_invoice_in_another_currency_named_alongside_leaves_the_right_one(self):
        dollars = invoice("INV-2025-00001", currency="USD")
        euros = invoice("INV-2025-00002")
        assert match("INV-2025-00001 INV-2025-00002", [dollars, euros]) == Match(euros)

    def test_two_open_invoices_named_in_one_transfer_go_to_a_person(self):
        first, second = invoice("INV-2025-00001"), invoice("INV-2025-00002")
        assert match("INV-2025-00001 INV-2025-00002", [first, second]) == NoMatch("ambiguous_reference")

    def test_the_same_number_in_another_account_does_not_compete(self):
        mine = invoice()
        theirs = invoice(id="inv_theirs", account_id="acct_2")
        assert match("INV-2025-00001", [mine, theirs]) == Match(mine)


class TestRemittanceReferences:
    def test_the_lookup_keys_are_normalised(self):
        references = RemittanceReferences.of(f"Re: inv-2025-00001. {format_in_groups(REFERENCE).lower()}")
        assert REFERENCE in references.creditor_references
        assert "INV-2025-00001" in references.words


class TestPayable:
    def test_an_open_invoice_in_the_same_account_and_currency_is_payable(self):
        target = invoice()
        assert check_payable(target, ACCOUNT, "EUR") is target

    @pytest.mark.parametrize(
        ("target", "account", "currency", "reason"),
        [
            (None, ACCOUNT, "EUR", "unknown_invoice"),
            (DRAFT, ACCOUNT, "EUR", "invoice_not_open"),
            (invoice(), "acct_2", "EUR", "unknown_invoice"),  # another account's: as if there were none
            (invoice(status="paid"), ACCOUNT, "EUR", "invoice_not_open"),
            (invoice(status="void"), ACCOUNT, "EUR", "invoice_not_open"),
            (invoice(), ACCOUNT, "USD", "currency_mismatch"),
        ],
    )
    def test_refusals(self, target, account, currency, reason):
        with pytest.raises(PaymentRefused) as refusal:
            check_payable(target, account, currency)
        assert refusal.value.reason == reason

    def test_an_uncollectible_invoice_is_payable(self):
        assert check_payable(invoice(status="uncollectible"), ACCOUNT, "EUR").status == "uncollectible"


class TestTransactionPayment:
    def test_a_transaction_pays_as_a_bank_transfer_named_after_it(self):
        payment = transaction(REFERENCE).payment("inv_1", "automatic")
        assert (payment.payment_id, payment.method, payment.paid_on, payment.transaction_id) == (
            "bt-tx-1", "bank_transfer", date(2025, 3, 1), "tx-1"
        )
