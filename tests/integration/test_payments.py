"""payments against real Kafka and its store: reconciliation and payment commands on the wire,
each path once (the rules in full, in memory: tests/unit/payments/test_handlers.py).

The invoices service is not needed: the tests publish the invoices events payments reads
themselves, as the invoices service would, and wait until payments' read model holds them.
"""

import asyncio
import re
import secrets
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest

from contracts.messages import MessageData
from contracts.messages.common import Customer, InvoiceSnapshot, PricedLine
from contracts.messages.invoices import (
    FinalizeInvoice,
    InvoiceFinalized,
    InvoiceStateEvent,
)
from contracts.messages.payments import ApplyTransaction, BankTransactionReceived, RecordPayment, RemovePayment
from contracts.references import creditor_reference, format_in_groups
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import Received, internal_url

IBAN = "DE89370400440532013000"
DUPLICATES = 'invoicing_bank_transactions_total{outcome="duplicate"}'
FINALIZED_HANDLED = (
    'invoicing_messages_consumed_total{outcome="handled",topic="invoices.events",type="invoice.finalized"}'
)


def state_event(event: type[InvoiceStateEvent], snapshot: InvoiceSnapshot) -> InvoiceStateEvent:
    """The event as the invoices service publishes it; the two that hand out the hosted page's token
    carry one beside the snapshot."""
    extra = {"hosted_token": secrets.token_urlsafe(32)} if "hosted_token" in event.model_fields else {}
    return event(invoice_id=snapshot.id, invoice=snapshot, **extra)


@pytest.fixture
async def publish_invoice(producer, payments_invoices):
    """Publish an invoices event the way the invoices service would, and wait until payments holds it."""

    async def publish(event: type[InvoiceStateEvent], snapshot: InvoiceSnapshot) -> InvoiceSnapshot:
        await producer.send(state_event(event, snapshot), account_id=snapshot.account_id)
        for _ in range(300):
            stored = await payments_invoices.get(snapshot.account_id, snapshot.id)
            if stored is not None and stored.version >= snapshot.version:
                return snapshot
            await asyncio.sleep(0.1)
        raise AssertionError(f"payments never stored version {snapshot.version} of {snapshot.id}")

    return publish


@pytest.fixture
def ask(producer, event_log, account_id):
    """Send a message (as the test's account unless told otherwise) and wait for the answer of that type."""

    async def send_and_wait(message: MessageData, answer_type: str, *, account: str | None = None) -> Received:
        sent = await producer.send(message, account_id=account or account_id)
        return await event_log.wait_for(
            lambda r: r.type == answer_type and r.headers.get("ce_causationid") == str(sent.id)
        )

    return send_and_wait


async def refusal(ask, command: MessageData, **options) -> str:
    return (await ask(command, "payment.rejected", **options)).model().reason


def open_invoice(account_id: str, number: str, **fields) -> InvoiceSnapshot:
    now = datetime.now(UTC)
    line = PricedLine(
        description="Consulting", quantity=1, unit_amount=10_000, tax_rate=20, amount=10_000, tax_amount=2_000
    )
    values = {
        "id": f"inv_{uuid.uuid4().hex[:12]}",
        "account_id": account_id,
        "status": "open",
        "number": number,
        "currency": "EUR",
        "customer": Customer(name="Acme GmbH", email=["ap@acme.example"]),
        "lines": [line],
        "subtotal": 10_000,
        "tax": 2_000,
        "total": 12_000,
        "amount_paid": 0,
        "amount_due": 12_000,
        "amount_remaining": 12_000,
        "due_date": date(2030, 1, 31),
        "payee_iban": IBAN,
        "payment_reference": creditor_reference(number),
        "created_at": now,
        "finalized_at": now,
        "version": 2,
    }
    return InvoiceSnapshot(**{**values, **fields})


def bank_credit(remittance: str, **fields) -> BankTransactionReceived:
    values = {
        "transaction_id": f"tx-{uuid.uuid4().hex[:16]}",
        "iban": IBAN,
        "amount": 12_000,
        "currency": "EUR",
        "booked_on": date(2025, 3, 14),
        "remittance_information": remittance,
        "debtor_name": "Acme GmbH",
    }
    return BankTransactionReceived(**{**values, **fields})


def manual_payment(invoice_id: str, **fields) -> RecordPayment:
    values = {
        "invoice_id": invoice_id,
        "payment_id": f"p-{uuid.uuid4().hex[:8]}",
        "amount": 100,
        "currency": "EUR",
        "paid_on": date(2025, 3, 2),
    }
    return RecordPayment(**{**values, **fields})


def counted(sample: str) -> float:
    """A sample of payments' /metrics; tests run one at a time, so growth is the test's own doing."""
    metrics = httpx.get(internal_url("payments", "/metrics"), timeout=5).text
    found = re.search(rf"^{re.escape(sample)} (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def counted_once_more(sample: str, before: float) -> None:
    for _ in range(300):
        if counted(sample) > before:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{sample} never grew past {before}")


async def test_a_transfer_naming_the_invoice_reference_pays_it(ask, publish_invoice, account_id):
    invoice = await publish_invoice(InvoiceFinalized, open_invoice(account_id, "INV-2025-00001"))
    credit = bank_credit(f"Rechnung {format_in_groups(invoice.payment_reference).lower()}", amount=5_000)

    matched = (await ask(credit, "payment.matched")).model()

    assert matched.invoice_id == invoice.id
    assert (matched.payment_id, matched.transaction_id) == (f"bt-{credit.transaction_id}", credit.transaction_id)
    assert (matched.amount, matched.currency, matched.paid_on) == (5_000, "EUR", credit.booked_on)
    assert (matched.match, matched.method) == ("automatic", "bank_transfer")


async def test_a_person_applies_an_unmatched_transaction(ask, publish_invoice, account_id):
    invoice = await publish_invoice(InvoiceFinalized, open_invoice(account_id, "INV-2025-00006"))
    credit = bank_credit("from Acme, see email")
    await ask(credit, "payment.unmatched")
    apply = ApplyTransaction(invoice_id=invoice.id, transaction_id=credit.transaction_id)

    matched = (await ask(apply, "payment.matched")).model()

    assert (matched.invoice_id, matched.match) == (invoice.id, "applied")
    assert (matched.payment_id, matched.transaction_id) == (f"bt-{credit.transaction_id}", credit.transaction_id)
    assert await refusal(ask, apply) == "transaction_already_matched"


async def test_a_manual_payment_is_recorded_once_and_removed(ask, publish_invoice, account_id):
    invoice = await publish_invoice(InvoiceFinalized, open_invoice(account_id, "INV-2025-00008"))
    record = manual_payment(invoice.id, amount=4_000, method="cash", note="paid at the counter")

    matched = (await ask(record, "payment.matched")).model()
    assert (matched.payment_id, matched.match, matched.method, matched.amount) == (
        record.payment_id, "manual", "cash", 4_000
    )
    assert (await ask(record, "payment.matched")).model() == matched
    assert await refusal(ask, record.model_copy(update={"amount": 4_001})) == "payment_already_exists"

    remove = RemovePayment(invoice_id=invoice.id, payment_id=record.payment_id, reason="entered twice")
    removed = (await ask(remove, "payment.removed")).model()
    assert (removed.payment_id, removed.amount, removed.reason) == (record.payment_id, 4_000, "entered twice")
    assert await refusal(ask, remove) == "payment_already_removed"
    assert await refusal(ask, record) == "payment_already_exists"


async def test_another_account_cannot_touch_an_invoice_or_its_transactions(ask, publish_invoice, account_id):
    invoice = await publish_invoice(InvoiceFinalized, open_invoice(account_id, "INV-2025-00012"))
    credit = bank_credit("unreferenced")
    await ask(credit, "payment.unmatched")
    payment_id = (await ask(manual_payment(invoice.id), "payment.matched")).model().payment_id
    intruder = f"acct_{uuid.uuid4().hex[:12]}"

    # Ids are per account: to another account, the invoice, its transaction and its payment are
    # unknown, and answered exactly as ids nobody has.
    for command, reason in (
        (manual_payment(invoice.id), "unknown_invoice"),
        (ApplyTransaction(invoice_id=invoice.id, transaction_id=credit.transaction_id), "unknown_transaction"),
        (RemovePayment(invoice_id=invoice.id, payment_id=payment_id), "unknown_payment"),
    ):
        rejection = await ask(command, "payment.rejected", account=intruder)
        assert (rejection.model().reason, rejection.model().subject_id) == (reason, invoice.id)
        assert rejection.envelope.accountid == intruder
        unknown = await ask(command, "payment.rejected", account=f"acct_{uuid.uuid4().hex[:12]}")
        assert unknown.model().message == rejection.model().message

    # The owner's transfer is still waiting in the unmatched queue.
    apply = ApplyTransaction(invoice_id=invoice.id, transaction_id=credit.transaction_id)
    assert (await ask(apply, "payment.matched")).model().match == "applied"


async def test_tenants_whose_banks_issue_the_same_ids_are_kept_apart(ask, publish_invoice, account_id):
    other_account = f"acct_{uuid.uuid4().hex[:12]}"
    ours = await publish_invoice(InvoiceFinalized, open_invoice(account_id, "INV-2025-00013"))
    theirs = await publish_invoice(InvoiceFinalized, open_invoice(other_account, "INV-2025-00013"))
    shared_bank_id = f"tx-{uuid.uuid4().hex[:16]}"
    shared_payment_id = f"p-{uuid.uuid4().hex[:8]}"

    for account, invoice in ((account_id, ours), (other_account, theirs)):
        credit = bank_credit(invoice.payment_reference, transaction_id=shared_bank_id)
        matched = (await ask(credit, "payment.matched", account=account)).model()
        assert (matched.invoice_id, matched.payment_id) == (invoice.id, f"bt-{shared_bank_id}")
        manual = manual_payment(invoice.id, payment_id=shared_payment_id)
        assert (await ask(manual, "payment.matched", account=account)).model().match == "manual"

    # Removing one tenant's payment leaves the other's counting.
    removal = RemovePayment(invoice_id=ours.id, payment_id=f"bt-{shared_bank_id}")
    await ask(removal, "payment.removed")
    again = ApplyTransaction(invoice_id=theirs.id, transaction_id=shared_bank_id)
    assert await refusal(ask, again, account=other_account) == "transaction_already_matched"


async def test_a_transfer_that_comes_before_its_invoice_is_matched_once_the_invoice_is_finalized(
    ask, producer, event_log, account_id
):
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await ask(create_invoice(invoice_id), "invoice.created")
    number = f"INV-{datetime.now(UTC).year}-00001"  # the account's first number, not issued yet
    credit = bank_credit(
        f"Invoice {number} {format_in_groups(creditor_reference(number))}", iban=PAYEE_IBAN, amount=147350
    )

    # The account's IBAN is known; what payments lacks is an invoice carrying the reference.
    assert (await ask(credit, "payment.unmatched")).model().reason == "unknown_reference"

    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)

    matched = (await event_log.wait_for_type("payment.matched", invoice_id)).model()
    assert (matched.transaction_id, matched.payment_id) == (credit.transaction_id, f"bt-{credit.transaction_id}")
    assert (matched.match, matched.method, matched.amount, matched.paid_on) == (
        "automatic", "bank_transfer", 147350, credit.booked_on
    )
    paid = (await event_log.wait_for_type("invoice.paid", invoice_id)).model().invoice
    assert (paid.status, paid.number, paid.amount_paid, paid.amount_remaining) == ("paid", number, 147350, 0)

    # The invoice's events and the transfer coming again have no second effect.
    finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).model()
    handled_before = counted(FINALIZED_HANDLED)
    await producer.send(finalized, account_id=account_id)
    await counted_once_more(FINALIZED_HANDLED, handled_before)
    duplicates_before = counted(DUPLICATES)
    await producer.send(credit, account_id=account_id)
    await counted_once_more(DUPLICATES, duplicates_before)
    assert len(event_log.of_type("payment.matched", invoice_id)) == 1
