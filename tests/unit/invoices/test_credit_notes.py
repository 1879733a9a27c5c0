"""Credit notes of an invoice (docs/design.md, "Credit notes"): pricing, caps and the effect of
each on what the invoice owes, by the invoice's status, without any server."""

from decimal import Decimal

import pytest

from contracts.messages.common import Customer, LineItem
from contracts.messages.credit_notes import CreateCreditNote, CreditedLine, SendCreditNote
from contracts.messages.invoices import ConfigureAccount, InvoiceChanges
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.credit_note import credited_amount
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.totals import price_line
from tests.integration.factories import CUSTOMER_ADDRESS
from tests.unit.invoices.test_lifecycle import ACCOUNT, LINKS, NOW, draft, payment, who

SERIES, FORMAT = "acct/CN-{yyyy}-{seq:05}", "CN-{yyyy}-{seq:05}"
WORK = LineItem(description="Work", quantity=Decimal(3), unit_amount=3333, tax_rate=Decimal(19))
BOOKS = LineItem(description="Books", quantity=Decimal(1), unit_amount=1000, tax_rate=Decimal(7))
DISCOUNT = LineItem(description="Discount", quantity=Decimal(1), unit_amount=-500, tax_rate=Decimal(19))
_ids = iter(range(10_000))


def issued_invoice(lines=(WORK, BOOKS), customer_id: str | None = "cus_1"):
    invoice = draft(lines=list(lines))
    invoice.customer = Customer(id=customer_id, name="Globex", email=["ap@globex.example"], address=CUSTOMER_ADDRESS)
    invoice.request_finalization(ACCOUNT, "acct/INV-{yyyy}-{seq:05}", **who())
    invoice.finalize("INV-2026-00001", links=LINKS, **who())
    invoice.take_recorded()
    return invoice


def create(invoice, credit_note_id="cn_1", **scope):
    invoice.request_credit_note(CreateCreditNote(invoice_id=invoice.id, credit_note_id=credit_note_id, **scope),
                                SERIES, FORMAT, **who())
    return invoice.take_recorded()


def credit(invoice, credit_note_id="cn_1", **scope):
    """Create and issue a credit note; the events of its issue."""
    create(invoice, credit_note_id, **scope)
    assert invoice.issue_credit_note(credit_note_id, f"CN-2026-{next(_ids):05}", **who())
    return invoice.take_recorded()


def refused(action) -> str:
    with pytest.raises(RuleViolation) as refusal:
        action()
    return refusal.value.reason


# --- pricing ------------------------------------------------------------------------------------


def test_an_amount_is_spread_over_the_tax_rates_in_proportion_and_its_parts_add_up_exactly():
    lines = [price_line(WORK), price_line(BOOKS)]  # 9999 + 1900 at 19 %, 1000 + 70 at 7 %
    parts = credited_amount(lines, 1001)
    # 1001 x 1070 / 12969 = 82.59 and 1001 x 11899 / 12969 = 918.41: the minor unit left goes to the
    # larger remainder.
    assert [(part.tax_rate, part.amount + part.tax_amount) for part in parts] == [(7, 83), (19, 918)]
    # Each part's tax is what its net leaves of it, the net rounded half-up: 83 / 1.07 = 77.57, 918 / 1.19 = 771.43
    assert [(part.amount, part.tax_amount) for part in parts] == [(78, 5), (771, 147)]


def test_an_amount_above_what_a_line_may_be_is_spread_over_several_lines_that_add_up():
    biggest = LineItem(description="Plant", quantity=Decimal(1), unit_amount=10**12, tax_rate=Decimal(19))
    parts = credited_amount([price_line(biggest)] * 2, 2 * 10**12 + 1)
    assert all(part.amount <= 10**12 and part.tax_amount <= 10**12 for part in parts)
    assert (len(parts), sum(part.amount + part.tax_amount for part in parts)) == (3, 2 * 10**12 + 1)


def test_an_amount_above_what_is_left_to_credit_is_refused_before_it_is_spread():
    invoice = issued_invoice()
    with pytest.raises(RuleViolation) as refused:
        create(invoice, amount=10**14)
    assert refused.value.reason == "credit_exceeds_invoice"


def test_an_amount_is_spread_only_over_rates_whose_lines_charge_something():
    lines = [price_line(WORK), price_line(DISCOUNT.model_copy(update={"tax_rate": Decimal(0)}))]
    parts = credited_amount(lines, 5000)
    assert [(part.tax_rate, part.amount + part.tax_amount) for part in parts] == [(19, 5000)]


def test_a_line_credited_in_parts_adds_up_to_the_line_exactly():
    invoice = issued_invoice()
    for credit_note_id in ("cn_1", "cn_2", "cn_3"):
        credit(invoice, credit_note_id, lines=[CreditedLine(line=0, quantity=Decimal(1))])
    parts = [note.lines[0] for note in invoice.credit_notes]
    line = invoice.lines[0]
    assert [part.amount for part in parts] == [3333, 3333, 3333]
    assert sum(part.tax_amount for part in parts) == line.tax_amount == 1900  # 633 + 633 + 634
    assert parts[-1].tax_amount == 634


def test_a_line_without_a_quantity_is_credited_for_what_is_left_of_it():
    invoice = issued_invoice()
    credit(invoice, "cn_1", lines=[CreditedLine(line=0, quantity=Decimal(2))])
    credit(invoice, "cn_2", lines=[CreditedLine(line=0)])
    assert invoice.credit_notes[1].lines[0].quantity == 1
    assert sum(note.total for note in invoice.credit_notes) == invoice.lines[0].amount + invoice.lines[0].tax_amount


# --- caps and refusals --------------------------------------------------------------------------


def test_more_of_a_line_than_is_left_is_refused():
    invoice = issued_invoice()
    credit(invoice, "cn_1", lines=[CreditedLine(line=0, quantity=Decimal(2))])
    assert refused(lambda: create(invoice, "cn_2", lines=[CreditedLine(line=0, quantity=Decimal(2))])) \
        == "credit_exceeds_invoice"
    assert refused(lambda: create(invoice, "cn_3", lines=[CreditedLine(line=0), CreditedLine(line=0)])) \
        == "credit_exceeds_invoice"


def test_pending_credit_notes_count_against_the_total():
    invoice = issued_invoice()  # total 12969
    create(invoice, "cn_1", amount=12000)  # its number is on its way
    assert refused(lambda: create(invoice, "cn_2", amount=970)) == "credit_exceeds_invoice"
    create(invoice, "cn_3", amount=969)
    assert refused(lambda: create(invoice, "cn_4")) == "credit_exceeds_invoice"  # the whole is no longer left


def test_an_invoices_credit_notes_have_at_most_four_times_its_lines_together():
    invoice = issued_invoice(lines=[WORK.model_copy(update={"quantity": Decimal(10_000)})] * 250)
    one_of_each = [CreditedLine(line=position, quantity=Decimal(1)) for position in range(250)]
    for credit_note_id in ("cn_1", "cn_2", "cn_3", "cn_4"):
        create(invoice, credit_note_id, lines=one_of_each)
    assert refused(lambda: create(invoice, "cn_5", lines=one_of_each[:1])) == "credit_note_limit"


def test_a_line_that_does_not_exist_is_refused():
    assert refused(lambda: create(issued_invoice(), lines=[CreditedLine(line=2)])) == "unknown_line"


def test_crediting_only_a_discount_is_refused():
    invoice = issued_invoice(lines=(WORK, DISCOUNT))
    assert refused(lambda: create(invoice, lines=[CreditedLine(line=1)])) == "nothing_to_credit"


def test_a_draft_a_void_invoice_and_one_being_finalized_are_not_credited():
    assert refused(lambda: create(draft())) == "invalid_status"
    void = issued_invoice()
    void.void(reason="mistake", **who())
    assert refused(lambda: create(void)) == "invalid_status"
    finalizing = draft()
    finalizing.request_finalization(ACCOUNT, "acct/x", **who())
    assert refused(lambda: create(finalizing)) == "finalization_pending"


def test_a_credit_note_id_pending_or_issued_is_refused_again():
    invoice = issued_invoice()
    create(invoice, "cn_1", amount=100)
    assert refused(lambda: create(invoice, "cn_1", amount=100)) == "credit_note_exists"
    invoice.issue_credit_note("cn_1", "CN-2026-00001", **who())
    assert refused(lambda: create(invoice, "cn_1", amount=100)) == "credit_note_exists"


def test_a_credit_to_the_customer_balance_needs_the_customers_id():
    invoice = issued_invoice(customer_id=None)
    assert refused(lambda: create(invoice, credit_to="customer_balance")) == "no_customer_id"
    create(invoice, credit_to="refund")


def test_a_credited_invoice_keeps_its_lines_and_is_not_deleted():
    invoice = issued_invoice()
    create(invoice, amount=100)
    editable = AccountSettings(id="acct", edit_finalized_invoices=True, delete_finalized_invoices=True)
    changes = InvoiceChanges(lines=[LineItem(description="Other", quantity=1, unit_amount=1)])
    assert refused(lambda: invoice.update(changes, editable, **who())) == "invoice_not_editable"
    assert refused(lambda: invoice.delete(editable, reason="x", **who())) == "invoice_not_deletable"
    invoice.update(InvoiceChanges(memo="Credited in part"), editable, **who())


def test_the_invoice_is_not_voided_while_a_credit_note_is_on_its_way():
    invoice = issued_invoice()
    create(invoice, amount=100)
    assert refused(lambda: invoice.void(reason="mistake", **who())) == "credit_note_pending"


def test_the_credit_note_number_asks_the_credit_note_series():
    invoice = issued_invoice()
    [allocate] = create(invoice, amount=100)
    assert (allocate.type_name, allocate.series_key, allocate.credit_note_id, allocate.invoice_id) == (
        "number.allocate", SERIES, "cn_1", invoice.id)
    assert invoice.credit_notes[0].status == "pending" and invoice.amount_remaining == invoice.total


# --- effects by status --------------------------------------------------------------------------


def test_on_an_open_invoice_a_credit_note_lowers_what_it_owes():
    invoice = issued_invoice()
    issued, updated = credit(invoice, amount=2969)
    assert (issued.type_name, updated.type_name) == ("credit_note.issued", "invoice.updated")
    assert issued.credit_note.pre_payment_amount == 2969 and issued.credit_note.refund_amount == 0
    assert (invoice.status, invoice.amount_due, invoice.amount_remaining, invoice.amount_credited) == (
        "open", 10000, 10000, 2969)
    assert updated.invoice.amount_remaining == 10000 and updated.invoice.amount_credited == 2969
    assert [change.model_dump() for change in updated.changes] == [
        {"field": "amount_credited", "before": 0, "after": 2969}]


def test_a_payment_of_what_is_left_after_a_credit_pays_the_invoice():
    invoice = issued_invoice()
    credit(invoice, amount=2969)
    invoice.apply_payment(payment(amount=10000), "EUR", **who())
    assert (invoice.status, invoice.amount_remaining, invoice.overpaid_amount) == ("paid", 0, 0)


def test_the_whole_invoice_credited_before_any_payment_voids_it():
    invoice = issued_invoice()
    issued, voided = credit(invoice)
    assert voided.type_name == "invoice.voided" and voided.invoice.status == "void"
    assert issued.credit_note.total == invoice.total == issued.credit_note.pre_payment_amount
    assert invoice.amount_remaining == 0


def test_credited_to_zero_after_a_payment_the_invoice_is_paid_by_credit_note_and_the_rest_refunded():
    invoice = issued_invoice()
    invoice.apply_payment(payment(amount=4000), "EUR", **who())
    issued, paid, owed = credit(invoice)
    note = issued.credit_note
    assert paid.type_name == "invoice.paid" and invoice.status == "paid"
    assert (owed.type_name, owed.refund_owed) == ("customer_balance.credit", 4000)  # the refund, owed
    assert (note.pre_payment_amount, note.refund_amount, note.customer_balance_amount) == (8969, 4000, 0)
    assert invoice.history[-1].detail == {"by": "credit_note", "credit_note_id": "cn_1"}


def test_an_invoice_settled_by_credit_notes_is_not_marked_unpaid():
    invoice = issued_invoice()
    invoice.apply_payment(payment(amount=4000), "EUR", **who())
    invoice.remove_payment("p1", **who())
    credit(invoice)  # paid by credit note: a payment was once recorded
    assert refused(lambda: invoice.mark_unpaid(**who())) == "invalid_status"


def test_a_payment_once_recorded_and_removed_still_makes_a_whole_credit_pay_rather_than_void():
    invoice = issued_invoice()
    invoice.apply_payment(payment(amount=4000), "EUR", **who())
    invoice.remove_payment("p1", **who())
    _, settled = credit(invoice)
    assert settled.type_name == "invoice.paid"


def test_partly_credited_to_zero_the_invoice_is_paid_not_void():
    invoice = issued_invoice()
    credit(invoice, "cn_1", lines=[CreditedLine(line=0)])
    _, event = credit(invoice, "cn_2", amount=invoice.amount_remaining)
    assert event.type_name == "invoice.voided"  # together the credit notes took back the whole invoice
    other = issued_invoice()
    other.apply_payment(payment(amount=1070), "EUR", **who())
    _, paid = credit(other, "cn_3", lines=[CreditedLine(line=0)])
    assert paid.type_name == "invoice.paid" and other.amount_credited < other.total


def test_on_a_paid_invoice_everything_goes_to_refund_or_the_balance_and_it_stays_paid():
    invoice = issued_invoice()
    invoice.apply_payment(payment(amount=invoice.total), "EUR", **who())
    issued, updated, credited = credit(invoice, "cn_1", amount=1000, credit_to="customer_balance")
    assert updated.type_name == "invoice.updated" and invoice.status == "paid"
    assert (issued.credit_note.pre_payment_amount, issued.credit_note.customer_balance_amount) == (0, 1000)
    assert (credited.type_name, credited.amount) == ("customer_balance.credit", 1000)
    issued, _, _ = credit(invoice, "cn_2", amount=500)
    assert issued.credit_note.refund_amount == 500
    assert invoice.amount_due == invoice.total and invoice.amount_credited == 1500


def test_an_uncollectible_invoice_is_credited_like_an_open_one():
    invoice = issued_invoice()
    invoice.mark_uncollectible(reason="gone", **who())
    issued, updated = credit(invoice, amount=969)
    assert updated.type_name == "invoice.updated" and issued.credit_note.pre_payment_amount == 969
    assert invoice.amount_remaining == 12000


def test_the_effect_is_decided_by_the_invoice_as_it_is_when_the_number_arrives():
    invoice = issued_invoice()
    create(invoice, amount=1000)
    invoice.apply_payment(payment(amount=invoice.total), "EUR", **who())  # paid while the number was on its way
    invoice.take_recorded()
    assert invoice.issue_credit_note("cn_1", "CN-2026-00001", **who())
    assert invoice.credit_notes[0].refund_amount == 1000 and invoice.status == "paid"


def test_a_number_announced_again_changes_nothing_and_an_unknown_credit_note_is_refused():
    invoice = issued_invoice()
    credit(invoice, amount=1000)
    number = invoice.credit_notes[0].number
    assert invoice.issue_credit_note("cn_1", number, **who()) is False
    assert refused(lambda: invoice.issue_credit_note("cn_9", "CN-2026-99999", **who())) == "unknown_credit_note"


def test_a_credit_note_refused_a_number_is_dropped_and_its_create_answered():
    invoice = issued_invoice()
    create(invoice, amount=1000)
    command_id = invoice.credit_notes[0].command_id
    assert invoice.credit_note_refused("cn_1", reason="invalid_number_format", message="no", **who())
    [answer] = invoice.take_recorded()
    assert (answer.command_id, answer.command_type, answer.reason) == (command_id, "credit_note.create",
                                                                      "invalid_number_format")
    assert invoice.credit_notes == []
    assert invoice.credit_note_refused("cn_1", reason="x", message="again", **who()) is False


def test_snapshots_are_the_issued_credit_notes_in_issue_order_and_their_parts_add_up():
    invoice = issued_invoice()
    invoice.apply_payment(payment(amount=10000), "EUR", **who())
    create(invoice, "cn_a", amount=2000)
    credit(invoice, "cn_b", amount=1000)
    invoice.issue_credit_note("cn_a", "CN-2026-10000", **who())
    snapshots = invoice.credit_note_snapshots()
    assert [snapshot.id for snapshot in snapshots] == ["cn_b", "cn_a"]
    for snapshot in snapshots:
        assert snapshot.pre_payment_amount + snapshot.refund_amount + snapshot.customer_balance_amount \
            == snapshot.total
        assert (snapshot.invoice_number, snapshot.invoice_issued_on, snapshot.status) == (
            "INV-2026-00001", NOW.date(), "issued")
    assert (snapshots[1].pre_payment_amount, snapshots[1].refund_amount) == (1969, 31)


# --- mail ---------------------------------------------------------------------------------------


def test_a_credit_note_is_mailed_and_a_failed_mail_answers_the_credit_note_send():
    invoice = issued_invoice()
    credit(invoice, amount=1000)
    assert refused(lambda: invoice.request_credit_note_send(SendCreditNote(invoice_id=invoice.id, credit_note_id="cn_9"),
                                                            links=LINKS, **who())) == "unknown_credit_note"
    send = who()
    invoice.request_credit_note_send(SendCreditNote(invoice_id=invoice.id, credit_note_id="cn_1"), links=LINKS, **send)
    [mail] = invoice.take_recorded()
    assert (mail.type_name, mail.credit_note.id, mail.to) == ("mail.send_credit_note", "cn_1", ["ap@globex.example"])
    invoice.mail_failed(mail.mail_id, "bounced", {}, reason="delivery_failed", message="bounced", **who())
    [answer] = invoice.take_recorded()
    assert (answer.command_id, answer.command_type) == (send["message_id"], "credit_note.send")


def test_a_delivered_credit_note_mail_is_in_the_history_and_is_no_invoice_sent():
    invoice = issued_invoice()
    credit(invoice, amount=1000)
    invoice.request_credit_note_send(SendCreditNote(invoice_id=invoice.id, credit_note_id="cn_1"), links=LINKS, **who())
    [mail] = invoice.take_recorded()
    invoice.mail_delivered(mail.mail_id, mail.to, [], NOW, actor="mailer", message_id="m-sent")
    assert invoice.take_recorded() == [] and invoice.last_sent_at is None
    assert invoice.history[-1].action == "credit_note_email_sent"


def test_the_history_shows_every_step_of_a_credit_note():
    invoice = issued_invoice()
    credit(invoice, amount=1000)
    assert [entry.action for entry in invoice.history][-2:] == ["credit_note_requested", "credit_note_issued"]


# --- the account's series -----------------------------------------------------------------------


def test_credit_notes_never_share_the_invoices_series():
    account = AccountSettings(id="acct")
    assert account.credit_note_series_format() == "CN-{yyyy}-{seq:05}"
    with pytest.raises(RuleViolation) as same:
        account.configure(ConfigureAccount(account_id="acct", credit_note_number_format="INV-{yyyy}-{seq:05}"))
    assert same.value.reason == "same_number_format" and account.credit_note_number_format == "CN-{yyyy}-{seq:05}"
    before = AccountSettings(id="acct", number_format="CN-{yyyy}-{seq:05}")  # chosen before credit notes existed
    assert refused(before.credit_note_series_format) == "same_number_format"
    account.configure(ConfigureAccount(account_id="acct", number_format="F{yy}-{seq}",
                                       credit_note_number_format="A{yy}-{seq}"))
    assert account.credit_note_series_format() == "A{yy}-{seq}"
