"""The invoice state machine (docs/design.md, "Invoice lifecycle"), without any server."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.messages.common import Address, Customer, LineItem
from contracts.messages.invoices import ConfigureAccount, CreateInvoice, InvoiceChanges, SendInvoice
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.hosted_link import HostedLinks
from services.invoices.domain.invoice import Invoice, Payment
from services.invoices.domain.totals import price_line, totals

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
ACCOUNT = AccountSettings(id="acct", company_name="Acme", sender_email="billing@acme.example",
                          payee_iban="DE89370400440532013000", default_days_until_due=14,
                          company_address=Address(country="DE"), company_tax_id="DE123456788")
# The deployment's way of linking pages, as a test deployment has it.
LINKS = HostedLinks(secret="test-secret-of-this-deployment-0123456789", public_url="https://billing.example.com")
_counter = iter(range(10_000))


def who(actor: str = "user:ann") -> dict:
    return {"now": NOW, "actor": actor, "message_id": f"m{next(_counter)}"}


def draft(lines=None, **fields) -> Invoice:
    command = CreateInvoice(
        invoice_id="inv_1", currency="EUR", customer=Customer(name="Globex", email=["ap@globex.example"], address=Address(country="DE")),
        lines=lines if lines is not None else [LineItem(description="Work", quantity=Decimal(2), unit_amount=5000, tax_rate=Decimal(19))],
        **fields,
    )
    return Invoice.create(command, "acct", **who())


def open_invoice(**fields) -> Invoice:
    invoice = draft(**fields)
    invoice.request_finalization(ACCOUNT, "acct/INV-{yyyy}-{seq:05}", **who())
    invoice.finalize("INV-2026-00001", links=LINKS, **who())
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
    invoice.finalize("INV-2026-00009", links=LINKS, **who())
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
    invoice.take_recorded()
    assert invoice.finalization_refused(reason="finalization_failed", message="try again", number="INV-7", **who())
    [answer] = invoice.take_recorded()
    assert (answer.command_id, answer.command_type, answer.reason) == (command_id, "invoice.finalize", "finalization_failed")
    assert invoice.status == "draft" and invoice.pending_finalization is None
    assert invoice.history[-1].detail == {"reason": "finalization_failed", "number": "INV-7"}
    # Finalizing again works, with whatever number numbering answers (the same one, reserved).
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    invoice.finalize("INV-7", links=LINKS, **who())
    assert invoice.status == "open"


def test_finalizing_needs_a_configured_account():
    with pytest.raises(RuleViolation) as refused:
        draft().request_finalization(AccountSettings(id="acct"), "acct/x", **who())
    assert refused.value.reason == "account_not_configured"


def test_partial_full_and_over_payment():
    invoice = open_invoice()
    invoice.apply_payment(payment("p1", 5000), "EUR", **who())
    assert (invoice.status, invoice.amount_remaining) == ("open", 6900)
    invoice.apply_payment(payment("p2", 10000), "EUR", **who())
    assert (invoice.status, invoice.amount_remaining, invoice.overpaid_amount) == ("paid", 0, 3100)


def test_the_same_payment_counts_once():
    invoice = open_invoice()
    assert invoice.apply_payment(payment("p1", 5000), "EUR", **who())
    assert not invoice.apply_payment(payment("p1", 5000), "EUR", **who())
    assert invoice.amount_paid == 5000


def test_removing_the_payment_that_covered_an_invoice_reopens_it():
    invoice = open_invoice()
    invoice.apply_payment(payment("p1"), "EUR", **who())
    assert invoice.status == "paid"
    invoice.remove_payment("p1", **who())
    assert invoice.status == "open" and invoice.paid_at is None


def test_uncollectible_becomes_paid_when_covered():
    invoice = open_invoice()
    invoice.mark_uncollectible(reason="insolvent", **who())
    invoice.apply_payment(payment("p1"), "EUR", **who())
    assert invoice.status == "paid"


def test_mark_paid_keeps_the_day_paid_and_the_note_on_the_invoice_its_history_and_its_snapshot():
    invoice = open_invoice()
    invoice.take_recorded()
    invoice.mark_paid(paid_on=date(2026, 10, 30), note="Cash at the office", **who())
    [paid] = invoice.take_recorded()
    told = {"paid_on": date(2026, 10, 30), "note": "Cash at the office"}
    assert invoice.out_of_band_payment.model_dump() == told
    assert paid.paid_out_of_band and paid.invoice.paid_out_of_band
    assert paid.invoice.out_of_band_payment.model_dump() == told
    assert invoice.history[-1].detail == {"paid_out_of_band": True, "paid_on": "2026-10-30", "note": "Cash at the office"}
    assert paid.invoice.amount_remaining == 0


def test_mark_paid_without_a_day_was_paid_today():
    invoice = open_invoice()
    invoice.mark_paid(**who())
    assert invoice.out_of_band_payment.model_dump() == {"paid_on": NOW.date(), "note": ""}


def test_mark_unpaid_reopens_an_invoice_marked_paid_out_of_band():
    invoice = open_invoice()
    invoice.mark_paid(paid_on=date(2026, 10, 30), **who())
    invoice.take_recorded()
    invoice.mark_unpaid(reason="the cheque bounced", **who())
    [unpaid] = invoice.take_recorded()
    assert unpaid.type_name == "invoice.marked_unpaid"
    assert (unpaid.invoice.status, unpaid.invoice.amount_remaining) == ("open", invoice.total)
    assert (unpaid.invoice.paid_out_of_band, unpaid.invoice.out_of_band_payment) == (False, None)
    assert invoice.history[-1].detail == {"reason": "the cheque bounced"}


@pytest.mark.parametrize("match", ["manual", "applied", "automatic"])
@pytest.mark.parametrize("marked_paid_too", [False, True])
def test_mark_unpaid_is_refused_while_a_payment_counts_and_names_payment_remove(match, marked_paid_too):
    # Once a payment of the bank feed (or a manual one payments keeps) counted, only payment.remove
    # may take it away: else the invoice owes 0.00 while open, or payments counts what it dropped.
    invoice = open_invoice()
    invoice.apply_payment(payment("bt-1", match=match, amount=5000 if marked_paid_too else 11900), "EUR", **who())
    if marked_paid_too:
        invoice.mark_paid(**who())
    invoice.take_recorded()
    with pytest.raises(RuleViolation) as refused:
        invoice.mark_unpaid(**who())
    assert refused.value.reason == "payments_recorded" and "payment.remove" in refused.value.message
    assert (invoice.status, [p.payment_id for p in invoice.payments], invoice.take_recorded()) == ("paid", ["bt-1"], [])


def test_mark_unpaid_refuses_an_online_payment():
    online = open_invoice()
    online.apply_payment(payment("card", online=True), "EUR", **who())
    with pytest.raises(RuleViolation) as refused:
        online.mark_unpaid(**who())
    assert refused.value.reason == "online_payment_exists"


@pytest.mark.parametrize(
    ("setup", "action", "reason"),
    [
        (draft, lambda i: i.void(reason="", **who()), "invalid_status"),
        (draft, lambda i: i.mark_paid(**who()), "invalid_status"),
        (draft, lambda i: i.mark_uncollectible(reason="", **who()), "invalid_status"),
        (draft, lambda i: i.request_send(SendInvoice(invoice_id="inv_1", to=["a@b.example"]), links=LINKS, **who()), "invoice_not_finalized"),
        (open_invoice, lambda i: i.request_finalization(ACCOUNT, "acct/x", **who()), "invalid_status"),
        (open_invoice, lambda i: i.mark_unpaid(**who()), "invalid_status"),
        (open_invoice, lambda i: i.request_send(SendInvoice(invoice_id="inv_1", to=[]), links=LINKS, **who()), "no_recipient"),
    ],
)
def test_actions_the_table_forbids(setup, action, reason):
    with pytest.raises(RuleViolation) as refused:
        action(setup())
    assert refused.value.reason == reason


def test_void_needs_manual_payments_removed_first():
    invoice = open_invoice()
    invoice.apply_payment(payment("cash", 100, match="manual"), "EUR", **who())
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
    invoice.apply_payment(payment("p1", 100), "EUR", **who())
    with pytest.raises(RuleViolation):
        invoice.check_deletable(permissive)


def test_clone_copies_content_into_a_new_draft():
    source = open_invoice(memo="Thanks")
    clone = Invoice.create(source.clone_command("inv_2"), "acct", **who())
    assert (clone.status, clone.number, clone.memo, clone.total) == ("draft", None, "Thanks", source.total)


def recorded(invoice: Invoice) -> list[str]:
    return [event.type_name for event in invoice.take_recorded()]


def test_each_change_records_the_events_it_causes_with_the_version_it_commits():
    invoice = draft()
    [created] = invoice.take_recorded()
    assert (created.type_name, created.invoice.version, created.invoice.status) == ("invoice.created", 1, "draft")
    invoice.version = 1  # committed by the unit of work
    invoice.request_finalization(ACCOUNT, "acct/INV-{yyyy}-{seq:05}", **who())
    [allocate] = invoice.take_recorded()
    assert (allocate.type_name, allocate.series_key, allocate.invoice_id) == ("number.allocate", "acct/INV-{yyyy}-{seq:05}", "inv_1")
    invoice.version = 2
    assert invoice.finalize("INV-2026-00001", links=LINKS, **who())
    [finalized] = invoice.take_recorded()
    assert (finalized.type_name, finalized.invoice.number, finalized.invoice.version) == ("invoice.finalized", "INV-2026-00001", 3)


def test_the_same_number_announced_again_changes_nothing():
    invoice = open_invoice()
    invoice.take_recorded()
    assert not invoice.finalize("INV-2026-00001", links=LINKS, **who())
    assert recorded(invoice) == [] and invoice.history[-1].action == "finalized"


def test_a_zero_invoice_is_announced_finalized_and_paid():
    invoice = draft(lines=[])
    invoice.request_finalization(ACCOUNT, "acct/x", **who())
    invoice.take_recorded()
    invoice.finalize("INV-2026-00009", links=LINKS, **who())
    assert recorded(invoice) == ["invoice.finalized", "invoice.paid"]


def test_payments_announce_what_they_changed():
    invoice = open_invoice()
    invoice.take_recorded()
    invoice.apply_payment(payment("p1", 5000), "EUR", **who())
    assert recorded(invoice) == ["invoice.payment_applied"]
    invoice.apply_payment(payment("p2", 6900), "EUR", **who())
    assert recorded(invoice) == ["invoice.payment_applied", "invoice.paid"]
    invoice.remove_payment("p2", **who())
    assert recorded(invoice) == ["invoice.marked_unpaid"]
    invoice.remove_payment("p1", **who())
    [updated] = invoice.take_recorded()
    assert (updated.type_name, updated.changes[0].field) == ("invoice.updated", "payments")
    assert not invoice.remove_payment("p1", **who()) and recorded(invoice) == []


def test_a_payment_in_another_currency_is_refused():
    with pytest.raises(RuleViolation) as refused:
        open_invoice().apply_payment(payment("p1"), "USD", **who())
    assert refused.value.reason == "currency_mismatch"


def test_sending_asks_the_mailer_for_the_customers_addresses_under_an_id_derived_from_the_command():
    invoice = open_invoice()
    invoice.take_recorded()
    invoice.request_send(SendInvoice(invoice_id="inv_1"), links=LINKS, now=NOW, actor="user:ann", message_id="cmd-1")
    [mail] = invoice.take_recorded()
    assert (mail.to, mail.kind, mail.language) == (["ap@globex.example"], "invoice", invoice.customer.language)
    assert invoice.pending_sends == {mail.mail_id: "cmd-1"}
    again = open_invoice()
    again.request_send(SendInvoice(invoice_id="inv_1"), links=LINKS, now=NOW, actor="user:ann", message_id="cmd-1")
    assert again.take_recorded()[-1].mail_id == mail.mail_id


def test_a_failed_email_answers_the_send_command_once():
    invoice = open_invoice()
    invoice.request_send(SendInvoice(invoice_id="inv_1"), links=LINKS, now=NOW, actor="user:ann", message_id="cmd-1")
    mail_id = invoice.take_recorded()[-1].mail_id
    invoice.mail_failed(mail_id, "bounced", {}, reason="delivery_failed", message="bounced", **who())
    [answer] = invoice.take_recorded()
    assert (answer.command_id, answer.command_type, answer.reason) == ("cmd-1", "invoice.send", "delivery_failed")
    invoice.mail_failed(mail_id, "bounced", {}, reason="delivery_failed", message="bounced", **who())
    assert recorded(invoice) == [] and invoice.history[-1].action == "email_bounced"


def test_deleting_a_finalized_invoice_announces_its_number_for_the_gap():
    invoice = open_invoice()
    invoice.take_recorded()
    invoice.delete(ACCOUNT.model_copy(update={"delete_finalized_invoices": True}), reason="duplicate", **who())
    [deleted] = invoice.take_recorded()
    assert (deleted.status, deleted.number, deleted.series_key, deleted.reason) == (
        "open", "INV-2026-00001", "acct/INV-{yyyy}-{seq:05}", "duplicate")


def test_configuring_keeps_what_the_command_leaves_out_and_announces_every_setting():
    account = AccountSettings(id="acct")
    account.configure(ConfigureAccount(account_id="acct", company_name="Acme", default_days_until_due=10))
    account.configure(ConfigureAccount(account_id="acct", payee_iban="DE89370400440532013000"))
    assert (account.company_name, account.default_days_until_due) == ("Acme", 10)
    announced = [event.settings for event in account.take_recorded()]
    assert announced[-1]["account_id"] == "acct" and announced[-1]["company_name"] == "Acme"
    assert "outbox" not in announced[-1] and "version" not in announced[-1]
    with pytest.raises(RuleViolation) as refused:
        account.configure(ConfigureAccount(account_id="acct_other"))
    assert refused.value.reason == "account_mismatch"


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
