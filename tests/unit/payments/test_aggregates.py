"""The bank transaction and the payment as aggregates: their state changes and the events they record."""

from datetime import date

import pytest
from pydantic import ValidationError

from contracts.messages.payments import (
    ApplyTransaction,
    BankTransactionReceived,
    PaymentMatched,
    PaymentRemoved,
    RecordPayment,
    TransactionShare,
)
from contracts.references import creditor_reference
from services.payments.domain.matching import AwaitingInvoice, Match, NoMatch
from services.payments.domain.model import InvoiceView, PaymentRefused
from services.payments.domain.payments import Payment
from services.payments.domain.transactions import BankTransaction

ACCOUNT = "acct_1"
IBAN = "DE89370400440532013000"
INVOICE = InvoiceView(id="inv_1", account_id=ACCOUNT, number="INV-2025-00001", status="open", currency="EUR",
                      amount_remaining=10_000, payee_iban=IBAN, payment_reference=creditor_reference("INV-2025-00001"),
                      version=2)


def received(remittance: str = "INV-2025-00001") -> BankTransaction:
    event = BankTransactionReceived(transaction_id="tx-1", iban=IBAN, amount=5_000, currency="EUR",
                                    booked_on=date(2025, 3, 14), remittance_information=remittance)
    return BankTransaction.received(ACCOUNT, event)


class TestBankTransaction:
    def test_its_id_is_scoped_by_account(self):
        assert received().id == f"{ACCOUNT}/tx-1"

    def test_a_match_pays_the_invoice_automatically(self):
        transaction = received()
        transaction.reconcile(Match(INVOICE))

        [matched] = transaction.take_recorded()
        assert isinstance(matched, PaymentMatched)
        assert (matched.invoice_id, matched.payment_id, matched.match, matched.amount) == (
            "inv_1", "bt-tx-1", "automatic", 5_000)
        assert (transaction.invoice_id, transaction.unmatched_reason, transaction.waiting) == ("inv_1", None, False)

    def test_a_transaction_naming_no_known_invoice_waits_for_one_by_the_names_in_its_text(self):
        transaction = received("Invoice INV-2025-00009")
        transaction.reconcile(AwaitingInvoice("no_reference"))

        [unmatched] = transaction.take_recorded()
        assert (unmatched.reason, unmatched.transaction_id) == ("no_reference", "tx-1")
        assert f"{ACCOUNT}/INV-2025-00009" in transaction.waiting_for

    def test_a_transaction_a_known_invoice_refused_waits_for_a_person_only(self):
        transaction = received()
        transaction.reconcile(NoMatch("invoice_not_open"))

        assert (transaction.unmatched_reason, transaction.waiting) == ("invoice_not_open", False)
        assert transaction.end_wait(Match(INVOICE)) is False
        assert len(transaction.take_recorded()) == 1

    def test_the_wait_ends_in_a_match_or_for_good(self):
        matched, refused = received(), received()
        for transaction in (matched, refused):
            transaction.reconcile(AwaitingInvoice("no_reference"))
            transaction.take_recorded()

        assert matched.end_wait(Match(INVOICE)) and refused.end_wait(NoMatch("currency_mismatch"))

        assert [event.invoice_id for event in matched.take_recorded()] == ["inv_1"]
        assert [event.reason for event in refused.take_recorded()] == ["currency_mismatch"]
        assert not matched.waiting and not refused.waiting

    def test_a_wait_the_invoice_does_not_end_goes_on(self):
        transaction = received()
        transaction.reconcile(AwaitingInvoice("no_reference"))

        assert transaction.end_wait(AwaitingInvoice("no_reference")) is False
        assert transaction.waiting

    def test_a_person_applies_it_unless_its_payment_counts_towards_an_invoice(self):
        transaction = received()
        transaction.reconcile(Match(INVOICE))

        with pytest.raises(PaymentRefused) as refused:
            transaction.check_applicable([INVOICE], payments_count=True, split=[])
        assert refused.value.reason == "transaction_already_matched"
        transaction.check_applicable([INVOICE], payments_count=False, split=[])

    @pytest.mark.parametrize(("invoice", "reason"), [
        (None, "unknown_invoice"),
        (INVOICE.model_copy(update={"status": "paid"}), "invoice_not_open"),
        (INVOICE.model_copy(update={"currency": "USD"}), "currency_mismatch"),
    ])
    def test_applying_follows_the_payment_rules(self, invoice, reason):
        with pytest.raises(PaymentRefused) as refused:
            received().check_applicable([invoice], payments_count=False, split=[])
        assert refused.value.reason == reason

    def test_applying_ends_a_wait_and_announces_an_applied_payment(self):
        transaction = received()
        transaction.reconcile(AwaitingInvoice("no_reference"))
        transaction.take_recorded()

        transaction.apply_to("inv_2", [])

        [matched] = transaction.take_recorded()
        assert (matched.invoice_id, matched.match) == ("inv_2", "applied")
        assert not transaction.waiting

    def test_a_split_pays_each_invoice_its_share_under_a_payment_of_its_own(self):
        transaction = received()
        transaction.reconcile(NoMatch("ambiguous_reference"))
        transaction.take_recorded()
        split = [TransactionShare(invoice_id="inv_1", amount=3_000), TransactionShare(invoice_id="inv_2", amount=2_000)]
        transaction.check_applicable([INVOICE, INVOICE.model_copy(update={"id": "inv_2"})], False, split)

        transaction.apply_to("inv_1", split)

        assert [(m.invoice_id, m.payment_id, m.amount, m.match) for m in transaction.take_recorded()] == [
            ("inv_1", "bt-tx-1-1", 3_000, "applied"), ("inv_2", "bt-tx-1-2", 2_000, "applied")
        ]
        assert transaction.payment_ids == ["bt-tx-1", "bt-tx-1-1", "bt-tx-1-2"]

    @pytest.mark.parametrize(("amounts", "invoice", "reason"), [
        ((3_000, 1_999), INVOICE, "split_mismatch"),
        ((3_000, 2_001), INVOICE, "split_mismatch"),
        ((3_000, 2_000), INVOICE.model_copy(update={"status": "void"}), "invoice_not_open"),
    ])
    def test_a_split_is_refused_unless_it_adds_up_and_every_invoice_is_payable(self, amounts, invoice, reason):
        split = [TransactionShare(invoice_id="inv_1", amount=amounts[0]),
                 TransactionShare(invoice_id="inv_2", amount=amounts[1])]

        with pytest.raises(PaymentRefused) as refused:
            received().check_applicable([INVOICE, invoice], payments_count=False, split=split)

        assert refused.value.reason == reason

    def test_a_split_names_each_invoice_once_and_the_command_s_invoice_among_them(self):
        share = {"invoice_id": "inv_1", "amount": 100}
        for split, invoice_id in (([share, share], "inv_1"), ([share], "inv_9")):
            with pytest.raises(ValidationError, match="invalid_split|names each invoice once"):
                ApplyTransaction(invoice_id=invoice_id, transaction_id="tx-1", split=split)


class TestPayment:
    def command(self, **fields) -> RecordPayment:
        values = {"invoice_id": "inv_1", "payment_id": "p-1", "amount": 100, "currency": "EUR",
                  "paid_on": date(2025, 3, 2), "method": "cash"}
        return RecordPayment(**{**values, **fields})

    def test_a_manual_payment_announces_itself(self):
        payment = Payment.recorded(ACCOUNT, self.command())

        [matched] = payment.take_recorded()
        assert (payment.id, matched.match, matched.method) == (f"{ACCOUNT}/p-1", "manual", "cash")

    def test_the_same_terms_are_the_same_payment(self):
        payment = Payment.recorded(ACCOUNT, self.command())

        assert payment.same_as(Payment.recorded(ACCOUNT, self.command()))
        assert not payment.same_as(Payment.recorded(ACCOUNT, self.command(amount=101)))

    def test_a_payment_is_removed_once(self):
        payment = Payment.recorded(ACCOUNT, self.command())
        payment.take_recorded()

        payment.remove("entered twice")

        [removed] = payment.take_recorded()
        assert isinstance(removed, PaymentRemoved) and removed.reason == "entered twice"
        assert not payment.counts
        with pytest.raises(PaymentRefused) as refused:
            payment.remove("again")
        assert refused.value.reason == "payment_already_removed"

    def test_a_transactions_removed_payment_counts_again_for_the_invoice_it_is_applied_to(self):
        transaction = received()
        payment = transaction.payment("inv_1", "automatic")
        payment.remove("wrong invoice")

        payment.count_again(transaction.payment("inv_2", "applied"))

        assert (payment.counts, payment.invoice_id, payment.match) == (True, "inv_2", "applied")
