"""The invoices service's handlers on the in-memory harness, with numbering and the mailer
answering as they do on the stack: numbering, redelivery, the rules' refusals, the history, and
how a failed delivery answers the send (tests/integration/test_invoices.py proves the real path)."""

from datetime import UTC, date, datetime

import pytest

from contracts.messages.common import LineItem
from contracts.messages.invoices import (
    FinalizeInvoice,
    InvoiceChanges,
    SendInvoice,
    UpdateInvoice,
    VoidInvoice,
)
from contracts.messages.mail import MailBounced, MailDeferred
from contracts.messages.numbering import NumberRejected
from services.invoices.adapters.invoices import Invoices
from tests.integration.factories import configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, of_type, only

YEAR = datetime.now(UTC).year


@pytest.fixture
async def platform() -> Platform:
    platform = Platform("invoices", "numbering", "mailer")
    await platform.send(configure_account(ACCOUNT))
    return platform


def stored(platform: Platform, invoice_id: str):
    return Invoices(platform.invoices.store).get(ACCOUNT, invoice_id)


def refusal(caused) -> tuple[str, str]:
    rejected = only(caused, "invoice.command_rejected")
    return rejected.reason, rejected.message


async def finalized(platform: Platform, invoice_id: str, account: str = ACCOUNT):
    await platform.send(create_invoice(invoice_id), account)
    return only(await platform.send(FinalizeInvoice(invoice_id=invoice_id), account), "invoice.finalized").invoice


async def test_finalized_invoices_get_consecutive_numbers_per_account(platform):
    await platform.send(configure_account("acct_other"), "acct_other")
    numbers = [(await finalized(platform, f"inv_{n}")).number for n in range(3)]
    assert numbers == [f"INV-{YEAR}-{n:05d}" for n in (1, 2, 3)]
    other = await finalized(platform, "inv_0", "acct_other")
    assert other.number == f"INV-{YEAR}-00001"
    invoice = await finalized(platform, "inv_3")
    assert (invoice.status, invoice.total, invoice.payee_iban) == ("open", 10 * 12000 + 22800 + 4550,
                                                                   "DE89370400440532013000")
    assert invoice.payment_reference.startswith("RF")


async def test_finalizing_twice_keeps_one_number(platform):
    invoice = await finalized(platform, "inv_1")
    assert refusal(await platform.send(FinalizeInvoice(invoice_id="inv_1")))[0] == "invalid_status"
    assert len(of_type(platform.published, "number.allocated")) == 1
    assert invoice.number.endswith("00001")


async def test_a_second_finalize_while_the_number_is_on_its_way_is_answered_at_once(platform):
    await platform.send(create_invoice("inv_1"))
    [allocate] = await platform.send(FinalizeInvoice(invoice_id="inv_1"), follow=False)
    assert refusal(await platform.send(FinalizeInvoice(invoice_id="inv_1")))[0] == "finalization_pending"
    caused = await platform.redeliver(allocate, to="numbering")
    assert only(caused, "invoice.finalized").invoice.status == "open"


async def test_a_finalization_numbering_refuses_leaves_a_plain_draft_and_answers_the_command(platform):
    await platform.send(create_invoice("inv_1"))
    finalize = FinalizeInvoice(invoice_id="inv_1")
    envelope = platform.envelope(finalize)
    [allocate] = await platform.send(finalize, envelope=envelope, follow=False)
    refused = NumberRejected(command_id=str(allocate.envelope.id), command_type="number.allocate",
                             reason="invalid_number_format", message="No such format.", invoice_id="inv_1")
    rejected = only(await platform.send(refused), "invoice.command_rejected")
    assert (rejected.reason, rejected.command_id) == ("invalid_number_format", str(envelope.id))
    invoice = await stored(platform, "inv_1")
    assert (invoice.status, invoice.pending_finalization, invoice.history[-1].action) == (
        "draft", None, "finalization_refused")


async def test_a_redelivered_command_has_one_effect(platform):
    command = create_invoice("inv_1")
    envelope = platform.envelope(command)
    platform.invoices.crash_at("inbox", "insert_new")  # handled and published, but not remembered
    [created] = await platform.send(command, envelope=envelope)
    assert await platform.recover() == []  # the invoice knows the message: nothing changes again
    assert await platform.send(command, envelope=envelope) == []  # and once remembered, it is skipped
    assert (await stored(platform, "inv_1")).version == 1
    assert created.data.type_name == "invoice.created"


async def test_commands_against_the_rules_are_rejected_with_a_reason_naming_the_command(platform):
    await platform.send(create_invoice("inv_1"))
    void = VoidInvoice(invoice_id="inv_1")
    envelope = platform.envelope(void)
    [rejection] = await platform.send(void, envelope=envelope)
    assert (rejection.data.reason, rejection.data.command_id) == ("invalid_status", str(envelope.id))
    assert rejection.envelope.causationid == str(envelope.id)
    assert rejection.envelope.correlationid == envelope.correlationid
    # Ids are per account: another account has no invoice by this id, and hears just that.
    foreign = await platform.send(UpdateInvoice(invoice_id="inv_1", changes=InvoiceChanges(memo="mine")), "acct_b")
    assert refusal(foreign) == ("unknown_invoice", "There is no invoice 'inv_1'.")


@pytest.mark.parametrize(("fields", "reason"), [
    ({"lines": [LineItem(description="Credit", quantity="1", unit_amount=-1, tax_rate="0")]}, "negative_total"),
    ({"due_date": date(2001, 1, 1)}, "due_date_before_issue"),
])
async def test_an_invoice_the_terms_refuse_is_not_created(platform, fields, reason):
    assert refusal(await platform.send(create_invoice("inv_1", **fields)))[0] == reason
    assert await stored(platform, "inv_1") is None


async def test_finalizing_before_the_account_is_configured_is_rejected(platform):
    await platform.send(create_invoice("inv_1"), "acct_new")
    assert refusal(await platform.send(FinalizeInvoice(invoice_id="inv_1"), "acct_new"))[0] == "account_not_configured"


async def test_an_invoice_with_nothing_due_is_paid_as_it_is_finalized(platform):
    free = [LineItem(description="Warranty repair", quantity="1", unit_amount=0, tax_rate="19")]
    await platform.send(create_invoice("inv_1", lines=free))
    caused = await platform.send(FinalizeInvoice(invoice_id="inv_1"))
    assert [m.data.type_name for m in caused if m.data.type_name.startswith("invoice.")] == [
        "invoice.finalized", "invoice.paid"]
    assert only(caused, "invoice.paid").invoice.status == "paid"


async def test_the_history_records_who_did_what(platform):
    await platform.send(create_invoice("inv_1"), actor="user:alice")
    await platform.send(UpdateInvoice(invoice_id="inv_1", changes=InvoiceChanges(memo="Net 14")), actor="user:bob")
    invoice = await stored(platform, "inv_1")
    assert [(entry.action, entry.actor) for entry in invoice.history] == [("created", "user:alice"),
                                                                        ("updated", "user:bob")]
    assert invoice.history[1].changes == [{"field": "memo", "before": "Thank you for your business.", "after": "Net 14"}]
    assert invoice.outbox == []


async def test_every_delivery_attempt_shows_in_the_history_and_a_bounce_answers_the_send(platform):
    await finalized(platform, "inv_1")
    send = SendInvoice(invoice_id="inv_1", to=["ap@globex.example"], cc=[])
    envelope = platform.envelope(send)
    queued = only(await platform.send(send, envelope=envelope), "mail.queued")
    mail = {"mail_id": queued.mail_id, "invoice_id": "inv_1", "kind": "invoice", "recipients": ["ap@globex.example"],
            "smtp_code": 450, "diagnostic": "mailbox busy"}
    await platform.send(MailDeferred(**mail, attempt=1, next_attempt_at=datetime.now(UTC)))
    caused = await platform.send(MailBounced(**{**mail, "smtp_code": 550}, permanent=True, attempts=2))
    rejected = only(caused, "invoice.command_rejected")
    assert (rejected.reason, rejected.command_id) == ("delivery_failed", str(envelope.id))
    invoice = await stored(platform, "inv_1")
    assert [e.action for e in invoice.history if e.action.startswith("email_")] == [
        "email_queued", "email_deferred", "email_bounced"]
    assert invoice.last_sent_at is None
