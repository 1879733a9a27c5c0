"""The customer balance's rules (docs/design.md, "Customer balance"), without any server: the
balance aggregate, what an invoice does with it, and what credits it."""

from datetime import UTC, date, datetime

import pytest

from contracts.messages.balances import (
    ApplyBalanceToInvoice,
    ApplyCustomerBalance,
    CreditCustomerBalance,
    RecordCustomerRefund,
)
from contracts.messages.common import Customer
from contracts.messages.invoices import InvoiceChanges, InvoicePaid, InvoicePaymentApplied, InvoiceUpdated
from services.invoices.domain.customer_balance import CustomerBalance
from services.invoices.domain.errors import RuleViolation
from tests.integration.factories import CUSTOMER_ADDRESS
from tests.unit.invoices.test_credit_notes import credit as credit_issued
from tests.unit.invoices.test_credit_notes import issued_invoice
from tests.unit.invoices.test_lifecycle import ACCOUNT, LINKS, draft, payment, who

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEY = "acct/cus_1/EUR"
CUSTOMER = Customer(id="cus_1", name="Globex", email=["ap@globex.example"], address=CUSTOMER_ADDRESS)


def balance_of(amount: int = 0) -> CustomerBalance:
    balance = CustomerBalance.empty(KEY)
    if amount:
        balance.credit(credit("overpayment", "inv_0/p0", amount), now=NOW, actor="service:invoices")
        balance.take_recorded()
    return balance


def credit(kind="overpayment", source_id="inv_0/p1", amount=1000, refund_owed=0) -> CreditCustomerBalance:
    return CreditCustomerBalance(balance_key=KEY, kind=kind, source_id=source_id, invoice_id="inv_0", amount=amount,
                                 refund_owed=refund_owed)


def refund(amount: int, reference: str = "SEPA-1", credit_note_id: str | None = None) -> RecordCustomerRefund:
    return RecordCustomerRefund(balance_key=KEY, amount=amount, paid_on=date(2026, 11, 20), reference=reference,
                                credit_note_id=credit_note_id)


def at() -> dict:
    return {"now": NOW, "actor": "user:ann"}


# --- the balance ---------------------------------------------------------------------------------


def test_a_source_credits_the_balance_once():
    balance = balance_of()
    assert balance.credit(credit(amount=2650), **at())
    assert not balance.credit(credit(amount=2650), **at())  # the same overpayment announced again
    assert balance.amount == 2650
    [changed] = balance.take_recorded()
    assert (changed.balance, changed.movement.kind, changed.movement.source_id) == (2650, "overpayment", "inv_0/p1")


def test_finalizing_takes_what_the_balance_holds_up_to_what_the_invoice_owes_and_tells_the_invoice():
    balance = balance_of(3000)
    balance.apply_to_invoice(ApplyCustomerBalance(balance_key=KEY, invoice_id="inv_2", amount=11900), **at())
    changed, told = balance.take_recorded()
    assert balance.amount == 0 and changed.balance == 0 and changed.movement.amount == 3000
    assert told == ApplyBalanceToInvoice(invoice_id="inv_2", balance_key=KEY, movement_id=changed.movement.id,
                                         amount=3000)
    big = balance_of(50_000)
    big.apply_to_invoice(ApplyCustomerBalance(balance_key=KEY, invoice_id="inv_2", amount=11900), **at())
    assert big.amount == 50_000 - 11900


def test_an_invoice_takes_from_the_balance_once_and_an_empty_balance_answers_no_customer_balance():
    balance = balance_of(3000)
    command = ApplyCustomerBalance(balance_key=KEY, invoice_id="inv_2", amount=1000)
    balance.apply_to_invoice(command, **at())
    balance.take_recorded()
    balance.apply_to_invoice(command, **at())
    assert balance.amount == 2000 and balance.take_recorded() == []
    with pytest.raises(RuleViolation) as refused:
        balance_of().apply_to_invoice(command, **at())
    assert refused.value.reason == "no_customer_balance"


def test_a_refund_paid_out_lowers_the_balance_never_below_zero():
    balance = balance_of(3000)
    with pytest.raises(RuleViolation) as refused:
        balance.record_refund(refund(3001), **at())
    assert refused.value.reason == "refund_exceeds_balance" and balance.amount == 3000
    balance.record_refund(refund(2000), **at())
    assert balance.amount == 1000
    assert balance.movements[-1].model_dump(include={"kind", "amount", "reference", "paid_on"}) == {
        "kind": "refund", "amount": 2000, "reference": "SEPA-1", "paid_on": date(2026, 11, 20)}


def test_the_same_refund_again_changes_nothing_and_another_under_its_reference_is_refused():
    balance = balance_of(3000)
    balance.record_refund(refund(1000), **at())
    balance.take_recorded()
    balance.record_refund(refund(1000), **at())
    assert balance.amount == 2000 and len(balance.movements) == 2
    assert [event.balance for event in balance.take_recorded()] == [2000]  # answered again
    with pytest.raises(RuleViolation) as refused:
        balance.record_refund(refund(500), **at())
    assert refused.value.reason == "refund_already_recorded"


def test_a_credit_note_refund_is_owed_until_a_refund_naming_it_is_recorded_and_leaves_the_balance_alone():
    balance = balance_of(3000)
    balance.credit(credit("credit_note", "cn_1", amount=0, refund_owed=4550), **at())
    assert (balance.amount, balance.refund_owed) == (3000, 4550)
    with pytest.raises(RuleViolation) as refused:
        balance.record_refund(refund(4551, credit_note_id="cn_1"), **at())
    assert refused.value.reason == "refund_exceeds_balance"
    with pytest.raises(RuleViolation):
        balance.record_refund(refund(1, "SEPA-2", credit_note_id="cn_other"), **at())
    balance.record_refund(refund(4550, credit_note_id="cn_1"), **at())
    assert (balance.amount, balance.refund_owed) == (3000, 0)
    assert balance.movements[-1].refund_owed == -4550


# --- the invoice ---------------------------------------------------------------------------------


def finalized(customer: Customer = CUSTOMER, available: int = 1):
    invoice = draft()
    invoice.customer = customer  # draft() names its own customer
    invoice.request_finalization(ACCOUNT, "acct/INV-{yyyy}-{seq:05}", **who())
    invoice.take_recorded()
    invoice.finalize("INV-2026-00002", balance_available=available, links=LINKS, **who())
    return invoice


def test_a_finalized_invoice_asks_its_customers_balance_for_what_it_owes_when_the_balance_held_something():
    invoice = finalized()
    asked = [event for event in invoice.take_recorded() if isinstance(event, ApplyCustomerBalance)]
    assert asked == [ApplyCustomerBalance(balance_key="acct/cus_1/EUR", invoice_id="inv_1", amount=11900)]
    for quiet in (finalized(available=0), finalized(Customer(name="Globex", address=CUSTOMER_ADDRESS), available=5000)):
        assert not [e for e in quiet.take_recorded() if isinstance(e, ApplyCustomerBalance)]


def test_the_balance_lowers_what_the_invoice_owes_and_a_transfer_of_the_rest_pays_it():
    invoice = finalized()
    invoice.take_recorded()
    invoice.apply_balance(3000, "bm_2", **who())
    [updated] = invoice.take_recorded()
    assert isinstance(updated, InvoiceUpdated)
    assert (updated.invoice.applied_balance, updated.invoice.amount_due, updated.invoice.amount_remaining) == (
        3000, 8900, 8900)
    assert invoice.status == "open"
    assert invoice.apply_payment(payment(amount=8900), "EUR", **who())
    assert invoice.status == "paid" and invoice.overpaid_amount == 0
    applied = next(e for e in invoice.take_recorded() if isinstance(e, InvoicePaymentApplied))
    assert applied.overpaid_amount == 0


def test_an_invoice_the_balance_covers_entirely_is_paid_from_the_customers_balance():
    invoice = finalized()
    invoice.take_recorded()
    invoice.apply_balance(11900, "bm_2", **who())
    [paid] = invoice.take_recorded()
    assert isinstance(paid, InvoicePaid) and paid.invoice.amount_remaining == 0 and invoice.status == "paid"
    assert invoice.history[-1].model_dump(include={"action", "status_to", "detail"}) == {
        "action": "paid", "status_to": "paid", "detail": {"paid_from": "the customer's balance"}}


def test_an_invoice_paid_from_the_balance_is_not_marked_unpaid():
    invoice = finalized()
    invoice.apply_balance(11900, "bm_2", **who())
    with pytest.raises(RuleViolation) as refused:
        invoice.mark_unpaid(**who())
    assert refused.value.reason == "invalid_status" and invoice.status == "paid"


def test_an_invoice_voided_meanwhile_gives_the_balance_back_and_stays_void():
    invoice = finalized()
    invoice.void(reason="wrong customer", **who())
    invoice.take_recorded()
    invoice.apply_balance(3000, "bm_2", **who())
    [given_back] = invoice.take_recorded()
    assert given_back == CreditCustomerBalance(balance_key=KEY, kind="invoice_returned",
                                               source_id="inv_1/bm_2", invoice_id="inv_1", amount=3000)
    assert (invoice.status, invoice.applied_balance) == ("void", 0)


def test_an_invoice_paid_meanwhile_takes_only_what_it_still_owes():
    invoice = finalized()
    invoice.apply_payment(payment(amount=10000), "EUR", **who())
    invoice.take_recorded()
    invoice.apply_balance(3000, "bm_2", **who())
    recorded = invoice.take_recorded()
    given_back = next(e for e in recorded if isinstance(e, CreditCustomerBalance))
    assert given_back.amount == 3000 - 1900 and invoice.applied_balance == 1900 and invoice.status == "paid"


def test_voiding_an_invoice_the_balance_paid_part_of_gives_that_part_back():
    invoice = finalized()
    invoice.apply_balance(3000, "bm_2", **who())
    invoice.take_recorded()
    invoice.void(reason="issued twice", **who())
    given_back = next(e for e in invoice.take_recorded() if isinstance(e, CreditCustomerBalance))
    assert (given_back.amount, given_back.source_id) == (3000, "inv_1/void")
    assert invoice.applied_balance == 0 and invoice.amount_remaining == 0


def test_an_invoice_the_balance_paid_part_of_keeps_its_lines():
    invoice = finalized()
    invoice.apply_balance(3000, "bm_2", **who())
    with pytest.raises(RuleViolation) as refused:
        invoice.update(InvoiceChanges(lines=[]), ACCOUNT.model_copy(update={"edit_finalized_invoices": True}), **who())
    assert refused.value.reason == "invoice_not_editable"


# --- what credits a balance ----------------------------------------------------------------------


def credits(recorded) -> list[CreditCustomerBalance]:
    return [event for event in recorded if isinstance(event, CreditCustomerBalance)]


def paid_in_full(invoice):
    invoice.apply_payment(payment(amount=invoice.amount_due), "EUR", **who())
    invoice.take_recorded()
    return invoice


def test_a_credit_note_credits_its_balance_part_and_owes_its_refund_part():
    invoice = paid_in_full(issued_invoice())
    [to_balance] = credits(credit_issued(invoice, "cn_1", amount=1000, credit_to="customer_balance"))
    assert to_balance == CreditCustomerBalance(balance_key="acct/cus_1/EUR", kind="credit_note", source_id="cn_1",
                                               invoice_id=invoice.id, amount=1000, refund_owed=0)
    [refunded] = credits(credit_issued(invoice, "cn_2", amount=550))
    assert (refunded.amount, refunded.refund_owed) == (0, 550)
    # All of it lowering what an open invoice owes credits nobody; no customer id, no balance.
    assert credits(credit_issued(issued_invoice(), "cn_3", amount=100)) == []
    assert credits(credit_issued(paid_in_full(issued_invoice(customer_id=None)), "cn_4", amount=100)) == []


def test_an_overpayment_credits_the_excess_of_the_payment_that_settled_the_invoice():
    invoice = issued_invoice()
    invoice.apply_payment(payment("p1", 10000), "EUR", **who())
    assert credits(invoice.take_recorded()) == []
    invoice.apply_payment(payment("p2", 5000), "EUR", **who())
    assert credits(invoice.take_recorded()) == [CreditCustomerBalance(
        balance_key="acct/cus_1/EUR", kind="overpayment", source_id=f"{invoice.id}/p2", invoice_id=invoice.id,
        amount=15000 - invoice.total)]
    anonymous = issued_invoice(customer_id=None)
    anonymous.apply_payment(payment("p1", 2 * anonymous.total), "EUR", **who())
    assert credits(anonymous.take_recorded()) == []
