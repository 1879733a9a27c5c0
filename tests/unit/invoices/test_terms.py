"""What an invoice must be to be issued, refused when the command arrives: a total of zero or more
and a due date no earlier than the issue date (Invoice._check_terms)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contracts.messages.common import Address, Customer, LineItem
from contracts.messages.invoices import CreateInvoice, InvoiceChanges
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.invoice import Invoice
from tests.unit.invoices.test_lifecycle import LINKS

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
ACCOUNT = AccountSettings(id="acct", company_name="Acme", sender_email="billing@acme.example",
                          payee_iban="DE89370400440532013000", edit_finalized_invoices=True,
                          company_address=Address(country="DE"), company_tax_id="DE123456788")
WORK = LineItem(description="Work", quantity=1, unit_amount=5000)
DISCOUNT = LineItem(description="Discount", quantity=1, unit_amount=-6000)


def who(now: datetime = NOW) -> dict:
    return {"now": now, "actor": "user:ann", "message_id": "m1"}


def create(lines=(WORK,), **fields) -> Invoice:
    command = CreateInvoice(invoice_id="inv_1", currency="EUR", customer=Customer(name="Globex", address=Address(country="DE")), lines=list(lines),
                            **fields)
    return Invoice.create(command, "acct", **who())


def refusal(action) -> str:
    with pytest.raises(RuleViolation) as refused:
        action()
    return refused.value.reason


def test_a_negative_total_is_refused_at_create_and_update():
    assert refusal(lambda: create([WORK, DISCOUNT])) == "negative_total"
    draft = create()
    assert refusal(lambda: draft.update(InvoiceChanges(lines=[WORK, DISCOUNT]), ACCOUNT, **who())) == "negative_total"
    assert draft.total == 5000  # unchanged


def test_discount_lines_are_fine_while_the_total_stays_at_zero_or_more():
    assert create([WORK, LineItem(description="Discount", quantity=1, unit_amount=-5000)]).total == 0


def test_a_due_date_before_the_issue_date_is_refused_at_create_update_and_finalize():
    yesterday = NOW.date() - timedelta(days=1)
    assert refusal(lambda: create(due_date=yesterday)) == "due_date_before_issue"
    draft = create(due_date=NOW.date())
    assert refusal(lambda: draft.update(InvoiceChanges(due_date=yesterday), ACCOUNT, **who())) == "due_date_before_issue"
    # A draft due today, finalized a day later, would be issued after its due date.
    later = NOW + timedelta(days=1)
    assert refusal(lambda: draft.request_finalization(ACCOUNT, "acct/x", **who(later))) == "due_date_before_issue"
    assert draft.pending_finalization is None


def test_days_until_due_replace_a_due_date_that_has_passed():
    draft = create(due_date=NOW.date())
    later = NOW + timedelta(days=3)
    draft.update(InvoiceChanges(days_until_due=5), ACCOUNT, **who(later))
    draft.request_finalization(ACCOUNT, "acct/x", **who(later))
    draft.finalize("INV-1", links=LINKS, **who(later))
    assert draft.due_date == later.date() + timedelta(days=5)


def test_an_open_invoice_is_judged_by_its_own_issue_date():
    invoice = create(due_date=date(2026, 11, 20))
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    invoice.finalize("INV-1", links=LINKS, **who())
    later = NOW + timedelta(days=30)
    invoice.update(InvoiceChanges(due_date=NOW.date()), ACCOUNT, **who(later))  # issued that day: fine
    assert invoice.due_date == NOW.date()
    assert refusal(lambda: invoice.update(InvoiceChanges(due_date=date(2026, 11, 1)), ACCOUNT, **who(later))) \
        == "due_date_before_issue"
