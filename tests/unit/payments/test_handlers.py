"""payments' handlers on the in-memory harness: reconciliation, the unmatched queue, payments by
hand and split transfers. The tests publish the invoices events payments reads, as the invoices
service would (tests/integration/test_payments.py and test_split_payments.py prove the real path);
the last tests run the invoices service beside it."""

import secrets
from datetime import UTC, date, datetime

import pytest

from contracts.messages.common import Customer, InvoiceSnapshot, PricedLine
from contracts.messages.invoices import (
    FinalizeInvoice,
    InvoiceCreated,
    InvoiceFinalized,
    InvoiceMarkedUnpaid,
    InvoiceStateEvent,
    InvoiceVoided,
)
from contracts.messages.payments import (
    ApplyTransaction,
    BankTransactionReceived,
    RecordPayment,
    RemovePayment,
    TransactionShare,
)
from contracts.references import creditor_reference, format_in_groups
from services.payments.adapters.payments import PaymentBook
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.unit.harness import ACCOUNT, Platform, of_type, only

OTHER_IBAN = "GB82WEST12345698765432"


@pytest.fixture
def platform() -> Platform:
    return Platform("payments")


def open_invoice(number: str, **fields) -> InvoiceSnapshot:
    now = datetime.now(UTC)
    line = PricedLine(description="Consulting", quantity=1, unit_amount=10_000, tax_rate=20, amount=10_000,
                      tax_amount=2_000)
    values = {
        "id": f"inv_{number.lower()}", "account_id": ACCOUNT, "status": "open", "number": number, "currency": "EUR",
        "customer": Customer(name="Acme GmbH", email=["ap@acme.example"]), "lines": [line], "subtotal": 10_000,
        "tax": 2_000, "total": 12_000, "amount_paid": 0, "amount_due": 12_000, "amount_remaining": 12_000,
        "due_date": date(2030, 1, 31), "payee_iban": PAYEE_IBAN, "payment_reference": creditor_reference(number),
        "created_at": now, "finalized_at": now, "version": 2,
    }
    return InvoiceSnapshot(**{**values, **fields})


def draft(name: str) -> InvoiceSnapshot:
    return open_invoice(name).model_copy(update={"status": "draft", "number": None, "payment_reference": None,
                                                  "finalized_at": None, "version": 1})


def state_event(event: type[InvoiceStateEvent], snapshot: InvoiceSnapshot) -> InvoiceStateEvent:
    extra = {"hosted_token": secrets.token_urlsafe(32)} if "hosted_token" in event.model_fields else {}
    return event(invoice_id=snapshot.id, invoice=snapshot, **extra)


async def publish(platform: Platform, event: type[InvoiceStateEvent], snapshot: InvoiceSnapshot) -> InvoiceSnapshot:
    await platform.send(state_event(event, snapshot), snapshot.account_id)
    return snapshot


def bank_credit(remittance: str, **fields) -> BankTransactionReceived:
    values = {"transaction_id": f"tx-{secrets.token_hex(8)}", "iban": PAYEE_IBAN, "amount": 12_000, "currency": "EUR",
              "booked_on": date(2025, 3, 14), "remittance_information": remittance, "debtor_name": "Acme GmbH"}
    return BankTransactionReceived(**{**values, **fields})


def manual_payment(invoice_id: str, **fields) -> RecordPayment:
    values = {"invoice_id": invoice_id, "payment_id": f"p-{secrets.token_hex(4)}", "amount": 100, "currency": "EUR",
              "paid_on": date(2025, 3, 2)}
    return RecordPayment(**{**values, **fields})


async def refusal(platform: Platform, command, account: str = ACCOUNT) -> str:
    return only(await platform.send(command, account), "payment.rejected").reason


async def test_a_transfer_naming_the_invoice_reference_in_groups_pays_it(platform):
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00001"))
    credit = bank_credit(f"Rechnung {format_in_groups(invoice.payment_reference).lower()}", amount=5_000)
    matched = only(await platform.send(credit), "payment.matched")
    assert matched.invoice_id == invoice.id
    assert (matched.payment_id, matched.transaction_id) == (f"bt-{credit.transaction_id}", credit.transaction_id)
    assert (matched.amount, matched.currency, matched.paid_on) == (5_000, "EUR", credit.booked_on)
    assert (matched.match, matched.method) == ("automatic", "bank_transfer")


async def test_a_transfer_naming_the_invoice_number_pays_it(platform):
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00002"))
    matched = only(await platform.send(bank_credit("Payment for inv-2025-00002, thanks", amount=20_000)),
                   "payment.matched")
    assert (matched.invoice_id, matched.amount) == (invoice.id, 20_000)


async def test_the_same_bank_transaction_twice_is_one_payment(platform):
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00003"))
    credit = bank_credit(invoice.payment_reference)
    await platform.send(credit)
    assert await platform.send(credit) == []  # another delivery of the same transaction, with another id
    assert platform.payments.service.metrics.registry.get_sample_value(
        "invoicing_bank_transactions_total", {"outcome": "duplicate"}) == 1
    assert len(of_type(platform.published, "payment.matched")) == 1


@pytest.mark.parametrize(("remittance", "fields", "reason"), [
    ("Thank you for your service", {}, "no_reference"),
    (creditor_reference("NOSUCHINVOICE"), {}, "unknown_reference"),
    ("INV-2025-00004", {"iban": OTHER_IBAN}, "unknown_iban"),
    ("INV-2025-00004", {"currency": "USD"}, "currency_mismatch"),
])
async def test_a_transfer_that_names_no_payable_invoice_goes_to_the_unmatched_queue(platform, remittance, fields,
                                                                                     reason):
    await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00004"))
    credit = bank_credit(remittance, **fields)
    [unmatched] = await platform.send(credit)
    assert (unmatched.envelope.subject, unmatched.data.reason, unmatched.data.amount) == (
        credit.transaction_id, reason, credit.amount)


async def test_a_void_invoice_takes_no_payment_and_a_stale_snapshot_does_not_reopen_it(platform):
    finalized = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00005"))
    await publish(platform, InvoiceVoided, finalized.model_copy(update={"status": "void", "version": 3}))
    await publish(platform, InvoiceFinalized, finalized)  # redelivered late, older than what payments holds
    assert only(await platform.send(bank_credit(finalized.payment_reference)), "payment.unmatched").reason == \
        "invoice_not_open"


async def test_a_person_applies_an_unmatched_transaction_once(platform):
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00006"))
    credit = bank_credit("from Acme, see email")
    await platform.send(credit)
    apply = ApplyTransaction(invoice_id=invoice.id, transaction_id=credit.transaction_id)
    matched = only(await platform.send(apply), "payment.matched")
    assert (matched.invoice_id, matched.match, matched.payment_id) == (invoice.id, "applied",
                                                                       f"bt-{credit.transaction_id}")
    assert await refusal(platform, apply) == "transaction_already_matched"


async def test_applying_is_refused_for_a_closed_invoice_or_an_unknown_transaction(platform):
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00007", status="paid"))
    credit = bank_credit("no reference here")
    await platform.send(credit)
    assert await refusal(platform, ApplyTransaction(invoice_id=invoice.id, transaction_id=credit.transaction_id)) \
        == "invoice_not_open"
    assert await refusal(platform, ApplyTransaction(invoice_id=invoice.id, transaction_id="tx-nope")) == \
        "unknown_transaction"


async def test_a_manual_payment_is_recorded_once_and_removed_once(platform):
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00008"))
    record = manual_payment(invoice.id, amount=4_000, method="cash", note="paid at the counter")
    matched = only(await platform.send(record), "payment.matched")
    assert (matched.payment_id, matched.match, matched.method, matched.amount) == (record.payment_id, "manual",
                                                                                   "cash", 4_000)
    assert only(await platform.send(record), "payment.matched") == matched  # a double click: the same answer
    assert await refusal(platform, record.model_copy(update={"amount": 4_001})) == "payment_already_exists"
    remove = RemovePayment(invoice_id=invoice.id, payment_id=record.payment_id, reason="entered twice")
    removed = only(await platform.send(remove), "payment.removed")
    assert (removed.payment_id, removed.amount, removed.reason) == (record.payment_id, 4_000, "entered twice")
    assert await refusal(platform, remove) == "payment_already_removed"
    assert await refusal(platform, record) == "payment_already_exists"


async def test_an_automatic_payment_removed_can_be_applied_to_another_invoice(platform):
    wrong = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00009"))
    right = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00010"))
    credit = bank_credit("INV-2025-00009")
    payment_id = only(await platform.send(credit), "payment.matched").payment_id
    await platform.send(RemovePayment(invoice_id=wrong.id, payment_id=payment_id))
    matched = only(await platform.send(ApplyTransaction(invoice_id=right.id, transaction_id=credit.transaction_id)),
                   "payment.matched")
    assert (matched.invoice_id, matched.payment_id) == (right.id, payment_id)


async def test_payment_commands_name_a_known_invoice_in_its_currency(platform):
    invoice = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00011"))
    assert await refusal(platform, manual_payment("inv_missing")) == "unknown_invoice"
    assert await refusal(platform, manual_payment(invoice.id, currency="USD")) == "currency_mismatch"
    assert await refusal(platform, RemovePayment(invoice_id=invoice.id, payment_id="p-none")) == "unknown_payment"


async def test_a_payment_on_a_draft_is_refused_for_being_a_draft(platform):
    created = await publish(platform, InvoiceCreated, draft("INV-2025-00012"))
    assert await refusal(platform, manual_payment(created.id)) == "invoice_not_open"
    assert await refusal(platform, manual_payment(created.id), account="acct_intruder") == "unknown_invoice"


async def test_a_waiting_transfer_the_invoice_refuses_stays_unmatched_with_the_real_reason(platform):
    credit = bank_credit("INV-2025-00014", currency="USD")
    assert only(await platform.send(credit), "payment.unmatched").reason == "no_reference"
    caused = await platform.send(state_event(InvoiceFinalized, open_invoice("INV-2025-00014")))
    assert only(caused, "payment.unmatched").reason == "currency_mismatch"


async def test_a_transfer_a_known_invoice_refused_is_not_matched_by_a_later_event(platform):
    paid = await publish(platform, InvoiceFinalized, open_invoice("INV-2025-00015", status="paid", amount_remaining=0))
    credit = bank_credit(paid.payment_reference)
    assert only(await platform.send(credit), "payment.unmatched").reason == "invoice_not_open"
    assert await platform.send(state_event(InvoiceMarkedUnpaid,
                                           paid.model_copy(update={"status": "open", "version": 3}))) == []
    apply = ApplyTransaction(invoice_id=paid.id, transaction_id=credit.transaction_id)
    assert only(await platform.send(apply), "payment.matched").match == "applied"


async def test_a_transfer_split_over_invoices_is_refused_whole_unless_it_adds_up_over_open_invoices(platform):
    first, second = [await publish(platform, InvoiceFinalized, open_invoice(n)) for n in ("INV-1", "INV-2")]
    unfinished = await publish(platform, InvoiceCreated, draft("INV-3"))
    credit = bank_credit("two invoices, see our email", amount=17_000)
    await platform.send(credit)

    def split(*shares: tuple[str, int]) -> ApplyTransaction:
        return ApplyTransaction(invoice_id=shares[0][0], transaction_id=credit.transaction_id,
                                split=[TransactionShare(invoice_id=i, amount=a) for i, a in shares])

    assert await refusal(platform, split((first.id, 12_000), (second.id, 4_999))) == "split_mismatch"
    assert await refusal(platform, split((first.id, 12_000), (unfinished.id, 5_000))) == "invoice_not_open"
    assert of_type(platform.published, "payment.matched") == []
    caused = await platform.send(split((first.id, 12_000), (second.id, 5_000)))
    assert [(m.invoice_id, m.payment_id, m.amount, m.match) for m in of_type(caused, "payment.matched")] == [
        (first.id, f"bt-{credit.transaction_id}-1", 12_000, "applied"),
        (second.id, f"bt-{credit.transaction_id}-2", 5_000, "applied"),
    ]
    assert await refusal(platform, split((second.id, 12_000), (first.id, 5_000))) == "transaction_already_matched"


async def test_a_transfer_that_comes_before_its_invoice_is_matched_once_the_invoice_is_finalized():
    platform = Platform("invoices", "numbering", "payments")
    await platform.send(configure_account(ACCOUNT))
    await platform.send(create_invoice("inv_1"))
    number = f"INV-{datetime.now(UTC).year}-00001"  # the account's first number, not issued yet
    credit = bank_credit(f"Invoice {number} {format_in_groups(creditor_reference(number))}", amount=147_350)
    assert only(await platform.send(credit), "payment.unmatched").reason == "unknown_reference"

    caused = await platform.send(FinalizeInvoice(invoice_id="inv_1"))

    matched = only(caused, "payment.matched")
    assert (matched.transaction_id, matched.match, matched.amount) == (credit.transaction_id, "automatic", 147_350)
    paid = only(caused, "invoice.paid").invoice
    assert (paid.status, paid.number, paid.amount_paid, paid.amount_remaining) == ("paid", number, 147_350, 0)
    # The invoice's event and the transfer coming again have no second effect.
    await platform.redeliver(next(m for m in caused if m.data.type_name == "invoice.finalized"), to="payments")
    assert await platform.send(credit) == []
    assert len(of_type(platform.published, "payment.matched")) == 1
    assert [p.counts for p in await PaymentBook(platform.payments.store).of_invoice(ACCOUNT, "inv_1")] == [True]
