"""Revisions (docs/design.md, "Revisions"): the rules on the invoice, then the whole flow through
the real handlers of invoices and payments in memory."""

from datetime import date

import pytest

from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.invoices import (
    FinalizeInvoice,
    InvoiceRevised,
    InvoiceVoided,
    ReviseInvoice,
    SettleRevisedInvoice,
    UpdateInvoice,
)
from contracts.messages.payments import RecordPayment
from services.invoices.domain.errors import RuleViolation
from services.invoices.domain.invoice import Invoice, revision_credit_note_id
from services.payments import revisions
from tests.integration.factories import configure_account, create_invoice
from tests.unit.invoices.test_lifecycle import ACCOUNT, LINKS, draft, open_invoice, payment, who
from tests.unit.test_ids_per_account import Platform


def revised(original: Invoice, revision_id: str = "inv_1_r1") -> Invoice:
    command = original.start_revision(revision_id, **who())
    return Invoice.create(command, "acct", revision_of=original, **who())


def test_a_revision_is_a_draft_copying_the_open_invoice_and_naming_it():
    original = open_invoice()
    revision = revised(original)
    assert (revision.status, revision.revision_of, revision.lines, revision.customer) == (
        "draft", original.id, original.lines, original.customer)
    assert revision.snapshot().revision_of == original.id
    assert original.revision_pending == "inv_1_r1" and original.status == "open"


@pytest.mark.parametrize("status", ["draft", "paid", "void"])
def test_drafts_paid_and_void_invoices_are_not_revised(status):
    invoice = draft() if status == "draft" else open_invoice()
    if status == "paid":
        invoice.apply_payment(payment(), "EUR", **who())
    if status == "void":
        invoice.void(reason="x", **who())
    with pytest.raises(RuleViolation) as refused:
        invoice.start_revision("inv_1_r1", **who())
    assert refused.value.reason == "invalid_status"


def test_one_revision_at_a_time():
    original = open_invoice()
    revised(original)
    with pytest.raises(RuleViolation) as refused:
        original.start_revision("inv_1_r2", **who())
    assert refused.value.reason == "revision_in_progress"


def test_finalizing_a_revision_asks_the_original_to_settle_on_its_own_partition():
    revision = revised(open_invoice())
    revision.request_finalization(ACCOUNT, "acct/x", **who())
    revision.take_recorded()
    revision.finalize("INV-2026-00002", links=LINKS, **who())
    settle = [event for event in revision.take_recorded() if isinstance(event, SettleRevisedInvoice)]
    assert settle == [SettleRevisedInvoice(invoice_id="inv_1", revision_id="inv_1_r1", revision_number="INV-2026-00002")]
    assert settle[0].aggregate_id() == "inv_1"  # keyed by the original


def test_by_the_void_rule_the_original_is_voided_names_its_revision_and_hands_its_payments_over():
    original = open_invoice()
    original.apply_payment(payment(amount=5000), "EUR", **who())
    revised(original)
    original.take_recorded()
    original.settle_by_revision("inv_1_r1", "INV-2026-00002", "void", **who())
    revised_event, voided = original.take_recorded()
    assert isinstance(revised_event, InvoiceRevised) and isinstance(voided, InvoiceVoided)
    assert revised_event.moved_payment_ids == ["p1"] and revised_event.revision_id == "inv_1_r1"
    assert (original.status, original.revised_by, original.amount_paid) == ("void", "inv_1_r1", 0)
    assert voided.invoice.revised_by == "inv_1_r1"
    original.settle_by_revision("inv_1_r1", "INV-2026-00002", "void", **who())  # asked again
    assert original.take_recorded() == []


def test_by_the_credit_note_rule_the_original_is_credited_whole_by_a_credit_note_derived_from_the_revision():
    original = open_invoice()
    original.apply_payment(payment(), "EUR", **who())  # paid meanwhile by its whole total
    original.revision_pending = "inv_1_r1"
    original.take_recorded()
    original.settle_by_revision("inv_1_r1", "INV-2026-00002", "credit_note", **who())
    revised_event, credit = original.take_recorded()
    assert revised_event.moved_payment_ids == ["p1"] and original.status == "open"  # no payment left
    assert credit == CreateCreditNote(invoice_id="inv_1", credit_note_id=revision_credit_note_id("inv_1_r1"),
                                      reason="other", memo="Replaced by invoice INV-2026-00002")
    assert revision_credit_note_id("inv_1_r1") == revision_credit_note_id("inv_1_r1") != revision_credit_note_id("x")


def test_a_revision_whose_draft_was_deleted_leaves_room_for_another():
    original = open_invoice()
    revised(original)
    assert original.start_revision("inv_1_r2", **who(), pending_draft_gone=True).invoice_id == "inv_1_r2"
    assert original.revision_pending == "inv_1_r2"


def test_an_invoice_is_settled_only_by_its_own_revision():
    original = open_invoice()
    revised(original)
    with pytest.raises(RuleViolation):
        original.settle_by_revision("inv_other", "INV-2026-00009", "void", **who())
    assert original.status == "open"


# --- through the handlers ------------------------------------------------------------------------


async def test_a_revision_replaces_the_original_and_the_payments_follow_it_in_both_services():
    platform = Platform()
    revisions.register(platform.payments.service, platform.read_model, platform.payment_book)
    account = "acct_a"
    await platform.send(configure_account(account), account)
    await platform.send(create_invoice("inv_1"), account)
    await platform.send(FinalizeInvoice(invoice_id="inv_1"), account)
    await platform.send(RecordPayment(invoice_id="inv_1", payment_id="pay_1", amount=50_000, currency="EUR",
                                      paid_on=date(2026, 11, 9), method="cash"), account)

    caused = await platform.send(ReviseInvoice(invoice_id="inv_1", new_invoice_id="inv_1_r1"), account)
    assert [m.data.type_name for m in caused] == ["invoice.created"]
    refused = await platform.send(ReviseInvoice(invoice_id="inv_1", new_invoice_id="inv_1_r2"), account)
    assert [m.data.reason for m in refused] == ["revision_in_progress"]
    await platform.send(UpdateInvoice(invoice_id="inv_1_r1", changes={"memo": "Corrected address"}), account)
    await platform.send(FinalizeInvoice(invoice_id="inv_1_r1"), account)

    original = await platform.invoice_store.get(account, "inv_1")
    revision = await platform.invoice_store.get(account, "inv_1_r1")
    assert (original.status, original.revised_by, original.amount_paid) == ("void", "inv_1_r1", 0)
    assert (revision.status, revision.revision_of, revision.amount_paid) == ("open", "inv_1", 50_000)
    moved = await platform.payment_book.get("acct_a/pay_1")
    assert (moved.invoice_id, moved.removed) == ("inv_1_r1", False)
    assert (await platform.read_model.get(account, "inv_1")).status == "void"
    assert (await platform.read_model.get(account, "inv_1_r1")).amount_remaining == revision.total - 50_000


async def test_a_payment_write_failing_once_while_payments_move_leaves_none_behind_and_none_doubled():
    platform = Platform()
    revisions.register(platform.payments.service, platform.read_model, platform.payment_book)
    account = "acct_a"
    await platform.send(configure_account(account), account)
    await platform.send(create_invoice("inv_1"), account)
    await platform.send(FinalizeInvoice(invoice_id="inv_1"), account)
    for payment_id in ("pay_1", "pay_2"):
        await platform.send(RecordPayment(invoice_id="inv_1", payment_id=payment_id, amount=20_000, currency="EUR",
                                          paid_on=date(2026, 11, 9), method="cash"), account)
    await platform.send(ReviseInvoice(invoice_id="inv_1", new_invoice_id="inv_1_r1"), account)

    documents, writes = platform.payment_book.documents, []
    update = documents.update

    async def second_write_fails_once(document, expected_version):
        writes.append(document["id"])
        if len(writes) == 2:
            raise RuntimeError("the store went away")
        await update(document, expected_version)

    documents.update = second_write_fails_once
    await platform.send(FinalizeInvoice(invoice_id="inv_1_r1"), account)

    assert len(writes) == 3  # one written, one failed, then the retry wrote the other
    for payment_id in ("pay_1", "pay_2"):
        assert (await platform.payment_book.get(f"{account}/{payment_id}")).invoice_id == "inv_1_r1"
    revision = await platform.invoice_store.get(account, "inv_1_r1")
    assert sorted(p.payment_id for p in revision.payments) == ["pay_1", "pay_2"]
    assert revision.amount_paid == 40_000


async def test_the_original_failing_to_be_written_once_after_its_revision_draft_still_ends_marked():
    platform = Platform()
    account = "acct_a"
    await platform.send(configure_account(account), account)
    await platform.send(create_invoice("inv_1"), account)
    await platform.send(FinalizeInvoice(invoice_id="inv_1"), account)
    documents, update = platform.invoice_store.documents, platform.invoice_store.documents.update
    failed = []

    async def original_fails_once(document, expected_version):
        if document["id"] == f"{account}/inv_1" and not failed:
            failed.append(document["id"])
            raise RuntimeError("the store went away")
        await update(document, expected_version)

    documents.update = original_fails_once
    caused = await platform.send(ReviseInvoice(invoice_id="inv_1", new_invoice_id="inv_1_r1"), account)
    assert failed and [m.data.type_name for m in caused] == ["invoice.created"]
    assert (await platform.invoice_store.get(account, "inv_1")).revision_pending == "inv_1_r1"
    refused = await platform.send(ReviseInvoice(invoice_id="inv_1", new_invoice_id="inv_1_r2"), account)
    assert [m.data.reason for m in refused] == ["revision_in_progress"]
