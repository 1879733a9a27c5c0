"""The invoice state machine (docs/design.md, "Invoice lifecycle"), without any server."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.messages.common import Customer, LineItem
from contracts.messages.invoices import CreateInvoice, InvoiceChanges
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.invoice import Invoice, Payment
from services.invoices.domain.totals import price_line, totals

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
ACCOUNT = AccountSettings(account_id="acct", company_name="Acme", sender_email="billing@acme.example",
                          payee_iban="DE89370400440532013000", default_days_until_due=14)
_counter = iter(range(10_000))


def who(actor: str = "user:ann") -> dict:
    return {"now": NOW, "actor": actor, "message_id": f"m{next(_counter)}"}


def draft(lines=None, **fields) -> Invoice:
    command = CreateInvoice(
        invoice_id="inv_1", currency="EUR", customer=Customer(name="Globex", email=["ap@globex.example"]),
        lines=lines if lines is not None else [LineItem(description="Work", quantity=Decimal(2), unit_amount=5000, tax_rate=Decimal(19))],
        **fields,
    )
    return Invoice.create(command, "acct", **who())


def open_invoice(**fields) -> Invoice:
    invoice = draft(**fields)
    invoice.request_finalization(ACCOUNT, "acct/INV-{yyyy}-{seq:05}", **who())
    invoice.finalize("INV-2026-00001", **who())
    return invoice


def payment(payment_id="p1", amount=11900, match="automatic", online=False) -> Payment:
    return Payment(payment_id=payment_id, amount=amount, method="bank_transfer", match=match, online=online, paid_on=date(2026, 11, 5))


def test_finalizing_assigns_number_reference_iban_and_due_date():
    invoice = open_invoice()
    assert invoice.status == "open"
    assert invoice.number == "INV-2026-00001"
    assert invoice.payment_reference == "RF76INV202600001"
    assert invoice.payee_iban == ACCOUNT.payee_iban
    assert invoice.due_date == date(2026, 11, 16)  # the account's 14 days
    assert invoice.issuer.company_name == "Acme"


def test_a_number_is_requested_at_finalization_never_earlier():
    invoice = draft()
    assert invoice.number is None and invoice.pending_finalization is None
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    assert invoice.number is None and invoice.pending_finalization.number_format == ACCOUNT.number_format


def test_zero_amount_due_is_paid_at_once():
    invoice = draft(lines=[])
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    invoice.finalize("INV-2026-00009", **who())
    assert invoice.status == "paid"
    assert [entry.action for entry in invoice.history][-2:] == ["finalized", "paid"]


def test_a_second_finalize_while_the_number_is_on_its_way_is_answered_finalization_pending():
    invoice = draft()
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    first = invoice.pending_finalization.command_id
    with pytest.raises(RuleViolation) as refused:
        invoice.request_finalization(ACCOUNT, "acct/x", **who())
    assert refused.value.reason == "finalization_pending"
    assert invoice.pending_finalization.command_id == first


def test_a_number_that_cannot_be_applied_leaves_a_plain_draft_and_says_which_number():
    invoice = draft()
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    command_id = invoice.pending_finalization.command_id
    assert invoice.finalization_refused(reason="finalization_failed", number="INV-7", **who()) == command_id
    assert invoice.status == "draft" and invoice.pending_finalization is None
    assert invoice.history[-1].detail == {"reason": "finalization_failed", "number": "INV-7"}
    # Finalizing again works, with whatever number numbering answers (the same one, reserved).
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    invoice.finalize("INV-7", **who())
    assert invoice.status == "open"


def test_finalizing_needs_a_configured_account():
    with pytest.raises(RuleViolation) as refused:
        draft().request_finalization(AccountSettings(account_id="acct"), "acct/x", **who())
    assert refused.value.reason == "account_not_configured"


def test_partial_full_and_over_payment():
    invoice = open_invoice()
    invoice.apply_payment(payment("p1", 5000), **who())
    assert (invoice.status, invoice.amount_remaining) == ("open", 6900)
    invoice.apply_payment(payment("p2", 10000), **who())
    assert (invoice.status, invoice.amount_remaining, invoice.overpaid_amount) == ("paid", 0, 3100)


def test_the_same_payment_counts_once():
    invoice = open_invoice()
    assert invoice.apply_payment(payment("p1", 5000), **who())
    assert not invoice.apply_payment(payment("p1", 5000), **who())
    assert invoice.amount_paid == 5000


def test_removing_the_payment_that_covered_an_invoice_reopens_it():
    invoice = open_invoice()
    invoice.apply_payment(payment("p1"), **who())
    assert invoice.status == "paid"
    invoice.remove_payment("p1", **who())
    assert invoice.status == "open" and invoice.paid_at is None


def test_uncollectible_becomes_paid_when_covered():
    invoice = open_invoice()
    invoice.mark_uncollectible(reason="insolvent", **who())
    invoice.apply_payment(payment("p1"), **who())
    assert invoice.status == "paid"


def test_mark_unpaid_removes_manual_payments_and_refuses_online_ones():
    invoice = open_invoice()
    invoice.apply_payment(payment("cash", match="manual"), **who())
    assert invoice.mark_unpaid(**who()) == ["cash"]
    assert invoice.status == "open" and invoice.payments == []

    online = open_invoice()
    online.apply_payment(payment("card", online=True), **who())
    with pytest.raises(RuleViolation) as refused:
        online.mark_unpaid(**who())
    assert refused.value.reason == "online_payment_exists"


@pytest.mark.parametrize(
    ("setup", "action", "reason"),
    [
        (draft, lambda i: i.void(reason="", **who()), "invalid_status"),
        (draft, lambda i: i.mark_paid(**who()), "invalid_status"),
        (draft, lambda i: i.mark_uncollectible(reason="", **who()), "invalid_status"),
        (draft, lambda i: i.request_send("m", ["a@b.example"], **who()), "invoice_not_finalized"),
        (open_invoice, lambda i: i.request_finalization(ACCOUNT, "acct/x", **who()), "invalid_status"),
        (open_invoice, lambda i: i.mark_unpaid(**who()), "invalid_status"),
        (open_invoice, lambda i: i.request_send("m", [], **who()), "no_recipient"),
    ],
)
def test_actions_the_table_forbids(setup, action, reason):
    with pytest.raises(RuleViolation) as refused:
        action(setup())
    assert refused.value.reason == reason


def test_void_needs_manual_payments_removed_first():
    invoice = open_invoice()
    invoice.apply_payment(payment("cash", 100, match="manual"), **who())
    with pytest.raises(RuleViolation) as refused:
        invoice.void(reason="", **who())
    assert refused.value.reason == "payments_recorded"
    invoice.remove_payment("cash", **who())
    invoice.void(reason="wrong customer", **who())
    assert invoice.status == "void" and invoice.amount_remaining == 0


def test_paid_and_void_are_final_for_edits():
    for final in ("paid", "void"):
        invoice = open_invoice()
        invoice.mark_paid(**who()) if final == "paid" else invoice.void(reason="", **who())
        with pytest.raises(RuleViolation) as refused:
            invoice.update(InvoiceChanges(memo="x"), ACCOUNT, **who())
        assert refused.value.reason == "invoice_not_editable"


def test_open_invoices_allow_memo_and_metadata_only_unless_the_account_enables_full_edits():
    invoice = open_invoice()
    invoice.update(InvoiceChanges(memo="Net 14", metadata={"po": "42"}), ACCOUNT, **who())
    with pytest.raises(RuleViolation):
        invoice.update(InvoiceChanges(currency="USD"), ACCOUNT, **who())
    permissive = ACCOUNT.model_copy(update={"edit_finalized_invoices": True})
    invoice.update(InvoiceChanges(lines=[]), permissive, **who())
    assert invoice.total == 0

    subscription = open_invoice(subscription_id="sub_1")
    with pytest.raises(RuleViolation):
        subscription.update(InvoiceChanges(lines=[]), permissive, **who())


def test_history_keeps_before_and_after_with_actor():
    invoice = draft()
    invoice.update(InvoiceChanges(memo="Net 14"), ACCOUNT, **who("user:bob"))
    entry = invoice.history[-1]
    assert (entry.action, entry.actor) == ("updated", "user:bob")
    assert entry.changes == [{"field": "memo", "before": "", "after": "Net 14"}]


def test_deleting_finalized_invoices_needs_the_account_setting_and_no_payment():
    invoice = open_invoice()
    with pytest.raises(RuleViolation) as refused:
        invoice.check_deletable(ACCOUNT)
    assert refused.value.reason == "invoice_not_deletable"
    permissive = ACCOUNT.model_copy(update={"delete_finalized_invoices": True})
    invoice.check_deletable(permissive)
    invoice.apply_payment(payment("p1", 100), **who())
    with pytest.raises(RuleViolation):
        invoice.check_deletable(permissive)


def test_clone_copies_content_into_a_new_draft():
    source = open_invoice(memo="Thanks")
    clone = Invoice.create(source.clone_command("inv_2"), "acct", **who())
    assert (clone.status, clone.number, clone.memo, clone.total) == ("draft", None, "Thanks", source.total)


@pytest.mark.parametrize(
    ("quantity", "unit_amount", "rate", "amount", "tax"),
    [
        (Decimal("3"), 333, Decimal("19"), 999, 190),          # 189.81 rounds up
        (Decimal("0.5"), 1, Decimal("0"), 1, 0),               # half a cent rounds half-up
        (Decimal("1.25"), 1000, Decimal("7.7"), 1250, 96),     # Swiss VAT, 96.25
        (Decimal("1"), 1000, Decimal("10"), 1000, 100),        # JPY: minor unit is the yen
    ],
)
def test_line_rounding_is_half_up_per_line(quantity, unit_amount, rate, amount, tax):
    priced = price_line(LineItem(description="x", quantity=quantity, unit_amount=unit_amount, tax_rate=rate))
    assert (priced.amount, priced.tax_amount) == (amount, tax)


def test_totals_are_sums_of_rounded_lines_and_stable():
    lines = [price_line(LineItem(description="x", quantity=Decimal("1"), unit_amount=105, tax_rate=Decimal("5")))] * 3
    figures = totals(lines)
    assert (figures.subtotal, figures.tax, figures.total) == (315, 15, 330)  # 5.25 -> 5 per line, not 15.75 -> 16
    assert totals(lines) == figures
