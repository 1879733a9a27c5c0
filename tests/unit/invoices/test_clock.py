"""The invoice's clock (docs/design.md, "Past due and reminders"): past due once per due date,
reminders on the account's schedule, each once and only on its day, none for settled invoices."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.messages.invoices import InvoiceCommandRejected, InvoicePastDue
from contracts.messages.mail import SendReminderMail
from services.invoices.domain.errors import RuleViolation
from tests.unit.invoices.test_lifecycle import ACCOUNT, LINKS, draft, open_invoice, payment, who

SCHEDULE = [-3, 1, 7]
DUE = date(2026, 11, 16)  # open_invoice(): finalized on 2 November, 14 days


def on(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def scheduled():
    invoice = open_invoice()
    invoice.reminder_schedule = list(SCHEDULE)
    invoice.take_recorded()
    return invoice


def run(invoice, at: datetime, schedule=SCHEDULE) -> list:
    invoice.run_clock(schedule, links=LINKS, **{**who("service:invoices-clock"), "now": at})
    return invoice.take_recorded()


def test_the_clock_runs_at_each_reminder_and_at_the_past_due_moment_each_once():
    invoice = scheduled()
    assert invoice.next_clock_at == on(DUE - timedelta(days=3))
    [before] = run(invoice, on(DUE - timedelta(days=3)))
    assert isinstance(before, SendReminderMail) and before.days_relative_to_due == -3
    assert before.to == ["ap@globex.example"] and before.invoice.status == "open"
    assert invoice.next_clock_at == on(DUE + timedelta(days=1))

    past_due, reminder = run(invoice, on(DUE + timedelta(days=1), hour=0))
    assert isinstance(past_due, InvoicePastDue) and past_due.days_past_due == 1 and past_due.invoice.past_due
    assert isinstance(reminder, SendReminderMail) and reminder.days_relative_to_due == 1
    assert invoice.past_due_on == DUE and invoice.next_clock_at == on(DUE + timedelta(days=7))

    [week] = run(invoice, on(DUE + timedelta(days=7), hour=9))
    assert week.days_relative_to_due == 7
    assert invoice.next_clock_at is None
    assert [entry.action for entry in invoice.history if entry.actor == "service:invoices-clock"] == [
        "reminder_requested", "past_due", "reminder_requested", "reminder_requested"]


def test_running_again_for_a_moment_dealt_with_announces_nothing_and_says_so():
    invoice = scheduled()
    run(invoice, on(DUE + timedelta(days=1)))
    [answer] = run(invoice, on(DUE + timedelta(days=1), hour=1))
    assert isinstance(answer, InvoiceCommandRejected) and answer.reason == "nothing_due"
    assert invoice.next_clock_at == on(DUE + timedelta(days=7))


def test_each_reminder_has_its_own_mail_id_and_asking_twice_is_the_same_mail():
    first, second = scheduled(), scheduled()
    [a] = run(first, on(DUE - timedelta(days=3)))
    [b] = run(second, on(DUE - timedelta(days=3), hour=5))
    [c] = run(second, on(DUE + timedelta(days=7)))[-1:]
    assert a.mail_id == b.mail_id != c.mail_id


def test_after_a_long_outage_only_the_latest_reminder_goes_out_and_only_on_its_day():
    invoice = scheduled()
    events = run(invoice, on(DUE + timedelta(days=1), hour=12))  # down since before the -3 reminder
    assert [type(event) for event in events] == [InvoicePastDue, SendReminderMail]
    assert events[1].days_relative_to_due == 1
    skipped = [entry.detail for entry in invoice.history if entry.action == "reminder_skipped"]
    assert skipped == [{"days_relative_to_due": -3, "reason": "its day passed"}]

    late = scheduled()
    events = run(late, on(DUE + timedelta(days=2)))  # the +1 reminder's day is over
    assert [type(event) for event in events] == [InvoicePastDue]


@pytest.mark.parametrize("settle", [
    lambda invoice: invoice.apply_payment(payment(), "EUR", **who()),
    lambda invoice: invoice.mark_paid(**who()),
    lambda invoice: invoice.void(reason="wrong customer", **who()),
    lambda invoice: invoice.mark_uncollectible(reason="insolvent", **who()),
])
def test_paid_void_and_uncollectible_invoices_have_no_clock(settle):
    invoice = scheduled()
    settle(invoice)
    assert invoice.next_clock_at is None
    with pytest.raises(RuleViolation) as refused:
        run(invoice, on(DUE + timedelta(days=1)))
    assert refused.value.reason == "nothing_due"


def test_a_reopened_invoice_that_is_still_unpaid_gets_the_reminder_of_the_day():
    invoice = scheduled()
    invoice.mark_paid(**who())
    invoice.mark_unpaid(**{**who(), "now": on(DUE + timedelta(days=7), hour=8)})
    assert invoice.next_clock_at == on(DUE - timedelta(days=3))  # the first moment it has not dealt with
    invoice.take_recorded()
    events = run(invoice, on(DUE + timedelta(days=7), hour=8))
    assert [type(event) for event in events] == [InvoicePastDue, SendReminderMail]
    assert events[1].days_relative_to_due == 7


def test_a_later_due_date_makes_the_invoice_current_again_and_past_due_again_later():
    invoice = scheduled()
    run(invoice, on(DUE + timedelta(days=1)))
    invoice.due_date = DUE + timedelta(days=30)
    assert invoice.next_clock_at == on(invoice.due_date - timedelta(days=3)) and not invoice.snapshot().past_due
    events = run(invoice, on(invoice.due_date + timedelta(days=1)))
    assert isinstance(events[0], InvoicePastDue) and invoice.past_due_on == invoice.due_date


def test_the_account_schedule_of_the_run_applies_and_no_reminder_without_an_address():
    invoice = scheduled()
    assert run(invoice, on(DUE - timedelta(days=3)), schedule=[])[0].reason == "nothing_due"
    assert invoice.reminder_schedule == [] and invoice.next_clock_at == on(DUE + timedelta(days=1))

    silent = scheduled()
    silent.customer = silent.customer.model_copy(update={"email": []})
    assert run(silent, on(DUE - timedelta(days=3)))[0].reason == "nothing_due"
    assert silent.history[-1].detail == {"days_relative_to_due": -3, "reason": "no_recipient"}


def test_the_schedule_is_the_accounts_at_finalization_and_drafts_have_no_clock():
    account = ACCOUNT.model_copy(update={"reminder_schedule": [0]})
    invoice = draft()
    assert invoice.next_clock_at is None
    invoice.request_finalization(account, "acct/x", **who())
    invoice.finalize("INV-2026-00002", links=LINKS, **who())
    assert invoice.next_clock_at == on(DUE)
    assert invoice.model_dump(mode="json")["next_clock_at"] == "2026-11-16T00:00:00Z"
