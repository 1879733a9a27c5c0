"""An invoice with a transfer on its way (docs/design.md, "Payment pending"), without any server:
the flag and the amount, what clears them (the booking, nothing left to pay, the expiry on the
invoice's clock) and what is refused while they last."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.messages.invoices import InvoiceChanges, InvoiceCommandRejected, InvoicePaid, InvoiceUpdated
from contracts.messages.payments import PaymentPending
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.invoice import Payment
from tests.unit.invoices.test_lifecycle import ACCOUNT, LINKS, NOW, open_invoice, payment, who

EXPIRES = NOW + timedelta(days=7)  # before the due date's moments (16 November): the clock's next moment
EDITABLE = ACCOUNT.model_copy(update={"edit_finalized_invoices": True, "delete_finalized_invoices": True})


def announced(transaction_id: str = "DE89370400440532013000:2026111900017", amount: int = 11_900,
              expires_at: datetime = EXPIRES, **fields) -> PaymentPending:
    return PaymentPending(invoice_id="inv_1", transaction_id=transaction_id, amount=amount, currency="EUR",
                          value_date=date(2026, 11, 3), expires_at=expires_at, **fields)


def pending_invoice(*events: PaymentPending):
    invoice = open_invoice()
    for event in events or (announced(),):
        assert invoice.announce_pending_payment(event, **who("service:payments"))
    return invoice


def test_a_transfer_announced_marks_the_open_invoice_and_says_what_changed():
    invoice = open_invoice()
    invoice.take_recorded()

    assert invoice.announce_pending_payment(announced(), **who("service:payments"))

    [updated] = invoice.take_recorded()
    assert isinstance(updated, InvoiceUpdated)
    assert (updated.invoice.payment_pending, updated.invoice.payment_pending_amount) == (True, 11_900)
    assert [change.model_dump() for change in updated.changes] == [
        {"field": "payment_pending", "before": False, "after": True},
        {"field": "payment_pending_amount", "before": 0, "after": 11_900}]
    entry = invoice.history[-1]
    assert (entry.action, entry.actor, entry.detail["transaction_id"]) == (
        "payment_pending", "service:payments", "DE89370400440532013000:2026111900017")
    assert datetime.fromisoformat(entry.detail["expires_at"]) == EXPIRES
    # Nothing is paid yet.
    assert invoice.amount_remaining == 11_900 and invoice.status == "open"


def test_the_same_transfer_announced_again_changes_nothing_and_a_second_one_adds_up():
    invoice = pending_invoice()
    assert not invoice.announce_pending_payment(announced(), **who())
    assert invoice.announce_pending_payment(announced("tx-2", 100), **who())
    assert invoice.snapshot().payment_pending_amount == 12_000


@pytest.mark.parametrize("settle", [
    lambda invoice: invoice.mark_paid(**who()),
    lambda invoice: invoice.void(reason="wrong customer", **who()),
    lambda invoice: invoice.mark_uncollectible(reason="insolvent", **who()),
])
def test_an_invoice_that_is_not_open_awaits_no_transfer(settle):
    invoice = open_invoice()
    settle(invoice)
    invoice.take_recorded()

    assert not invoice.announce_pending_payment(announced(), **who())
    assert invoice.take_recorded() == [] and not invoice.snapshot().payment_pending


def test_a_notice_handled_after_its_booking_counted_or_in_another_currency_is_ignored():
    invoice = open_invoice()
    invoice.apply_payment(payment(amount=100).model_copy(update={"transaction_id": "tx-booked"}), "EUR", **who())
    assert not invoice.announce_pending_payment(announced("tx-booked"), **who())
    assert not invoice.announce_pending_payment(announced().model_copy(update={"currency": "CHF"}), **who())
    assert not invoice.payment_pending


def test_the_booked_transfer_clears_it_by_its_bank_transaction_or_by_its_amount():
    by_id = pending_invoice(announced("tx-1", 5_000), announced("tx-2", 6_900))
    by_id.take_recorded()
    by_id.apply_payment(payment("bt-tx-2", 5_000).model_copy(update={"transaction_id": "tx-2"}), "EUR", **who())
    # Its own transaction clears it, whatever its amount; the other one is still on its way.
    assert [p.transaction_id for p in by_id.pending_payments] == ["tx-1"]
    [applied] = by_id.take_recorded()
    assert applied.invoice.payment_pending_amount == 5_000 and applied.invoice.status == "open"

    # Banks often book under another reference than the notice's: a transfer of its amount clears it.
    by_amount = pending_invoice(announced("tx-1", 5_000))
    by_amount.apply_payment(payment("bt-other", 5_000).model_copy(update={"transaction_id": "other"}), "EUR", **who())
    assert not by_amount.payment_pending
    assert by_amount.history[-1].detail == {"transaction_id": "tx-1", "amount": 5_000, "reason": "booked"}


def test_a_payment_of_another_amount_or_by_hand_leaves_it_unless_nothing_remains():
    invoice = pending_invoice(announced(amount=5_000))
    invoice.apply_payment(payment("cash", 5_000).model_copy(update={"method": "cash"}), "EUR", **who())
    invoice.apply_payment(payment("bt-x", 1_000), "EUR", **who())
    assert invoice.payment_pending

    invoice.apply_payment(payment("bt-y", 5_900), "EUR", **who())
    assert invoice.status == "paid" and not invoice.payment_pending
    paid = [event for event in invoice.take_recorded() if isinstance(event, InvoicePaid)]
    assert not paid[-1].invoice.payment_pending
    assert invoice.history[-2].detail == {"transaction_id": "DE89370400440532013000:2026111900017",
                                          "amount": 5_000, "reason": "paid"}


def test_reopened_after_its_payment_was_removed_it_shows_no_old_notice():
    invoice = pending_invoice()
    invoice.apply_payment(payment("bt-x", 11_900), "EUR", **who())
    invoice.remove_payment("bt-x", **who())
    assert invoice.status == "open" and not invoice.payment_pending


def test_the_expiry_is_a_moment_of_the_invoice_clock_that_clears_it():
    invoice = pending_invoice()
    invoice.reminder_schedule = [-3]
    assert invoice.next_clock_at == EXPIRES  # before the reminder of 13 November
    invoice.take_recorded()

    invoice.run_clock([-3], links=LINKS, **{**who("service:invoices-clock"), "now": EXPIRES})

    [updated] = invoice.take_recorded()
    assert isinstance(updated, InvoiceUpdated) and not updated.invoice.payment_pending
    assert invoice.history[-1].detail["reason"] == "expired"
    assert invoice.next_clock_at == datetime(2026, 11, 13, tzinfo=UTC)


def test_a_clock_run_before_the_expiry_keeps_it():
    invoice = pending_invoice(announced(expires_at=datetime(2026, 11, 20, tzinfo=UTC)))
    invoice.take_recorded()
    invoice.run_clock([], links=LINKS, **{**who("service:invoices-clock"), "now": datetime(2026, 11, 17, tzinfo=UTC)})
    # The past-due moment came first; the notice stays, and its expiry is the next moment.
    assert invoice.payment_pending and invoice.past_due
    assert invoice.next_clock_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert not any(isinstance(event, InvoiceCommandRejected) for event in invoice.take_recorded())


@pytest.mark.parametrize("change", [
    lambda invoice: invoice.update(InvoiceChanges(due_date=date(2026, 12, 31)), EDITABLE, **who()),
    lambda invoice: invoice.void(reason="wrong customer", **who()),
    lambda invoice: invoice.mark_uncollectible(reason="insolvent", **who()),
    lambda invoice: invoice.delete(EDITABLE, reason="duplicate", **who()),
])
def test_its_terms_and_its_status_do_not_change_under_a_transfer_on_its_way(change):
    invoice = pending_invoice()
    with pytest.raises(RuleViolation) as refused:
        change(invoice)
    assert refused.value.reason == "payment_pending"
    assert "on its way" in refused.value.message and EXPIRES.isoformat() in refused.value.message
    assert invoice.status == "open" and invoice.due_date == date(2026, 11, 16)


def test_its_memo_still_changes_and_after_the_expiry_everything_does_again():
    invoice = pending_invoice()
    invoice.update(InvoiceChanges(memo="Thanks!"), EDITABLE, **who())
    invoice.run_clock([], links=LINKS, **{**who("service:invoices-clock"), "now": EXPIRES})
    invoice.void(reason="wrong customer", **who())
    assert invoice.status == "void"


def test_a_payment_the_invoice_refuses_leaves_the_notice():
    invoice = pending_invoice()
    with pytest.raises(RuleViolation):
        invoice.apply_payment(Payment(payment_id="p", amount=11_900, method="bank_transfer", match="automatic",
                                      paid_on=date(2026, 11, 5)), "CHF", **who())
    assert invoice.payment_pending
