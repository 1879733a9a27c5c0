"""Every handler that writes more than one thing, with each of its writes failing once: the retry
leaves nothing missing and nothing doubled, in what is stored and in what is published.

The services run in memory (tests/unit/harness.py). A scenario brings the platform to the state
before its message; the message is then handled once without a fault (what it must do) and once
per write it made, with that write failing (a store outage the consumer retries, like a crash
between two writes followed by a redelivery). Creating an invoice from a quote is
tests/unit/invoices/test_quotes.py's (its quote link is dated anew by a retry, on purpose).
"""

import copy
from datetime import UTC, date, datetime

import pytest

from chassis.messaging import Outgoing
from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.invoices import FinalizeInvoice
from contracts.messages.payments import ApplyTransaction, BankTransactionReceived, RemovePayment, TransactionShare
from services.invoices.clock import Clock
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.unit.harness import ServiceInMemory
from tests.unit.test_ids_per_account import Platform

ACCOUNT = "acct_w"


def transfer(transaction_id: str, amount: int, remittance: str) -> BankTransactionReceived:
    return BankTransactionReceived(transaction_id=transaction_id, iban=PAYEE_IBAN, amount=amount, currency="EUR",
                                   booked_on=date(2026, 11, 20), remittance_information=remittance,
                                   debtor_name="Globex")


async def open_invoices(platform: Platform, *invoice_ids: str) -> dict[str, MessageData]:
    await platform.send(configure_account(ACCOUNT), ACCOUNT)
    finalized = {}
    for invoice_id in invoice_ids:
        await platform.send(create_invoice(invoice_id), ACCOUNT)
        [event] = [m.data for m in await platform.send(FinalizeInvoice(invoice_id=invoice_id), ACCOUNT)
                   if m.data.type_name == "invoice.finalized"]
        finalized[invoice_id] = event.invoice
    return finalized


async def before_reconcile(platform: Platform) -> tuple[str, MessageData]:
    invoice = (await open_invoices(platform, "inv_1"))["inv_1"]
    return "payments", transfer("tx-1", invoice.total, f"Invoice {invoice.number}")


async def before_match_waiting(platform: Platform) -> tuple[str, MessageData]:
    # Two transfers name an invoice payments does not know yet; its finalization wakes both.
    await platform.send(configure_account(ACCOUNT), ACCOUNT)
    await platform.send(transfer("tx-1", 5000, f"INV-{date.today().year}-00001 part 1"), ACCOUNT)
    await platform.send(transfer("tx-2", 6000, f"INV-{date.today().year}-00001 part 2"), ACCOUNT)
    await platform.send(create_invoice("inv_1"), ACCOUNT)
    held = platform.payments.consumer.handlers.pop("invoice.finalized")
    [finalized] = [m.data for m in await platform.send(FinalizeInvoice(invoice_id="inv_1"), ACCOUNT)
                   if m.data.type_name == "invoice.finalized"]
    platform.payments.consumer.handlers["invoice.finalized"] = held
    return "payments", finalized


async def before_apply(platform: Platform) -> tuple[str, MessageData]:
    invoice = (await open_invoices(platform, "inv_1"))["inv_1"]
    await platform.send(transfer("tx-1", invoice.total, "no reference at all"), ACCOUNT)
    return "payments", ApplyTransaction(invoice_id="inv_1", transaction_id="tx-1")


async def before_split(platform: Platform) -> tuple[str, MessageData]:
    await open_invoices(platform, "inv_1", "inv_2")
    await platform.send(transfer("tx-1", 9000, "two invoices"), ACCOUNT)
    return "payments", ApplyTransaction(invoice_id="inv_1", transaction_id="tx-1", split=[
        TransactionShare(invoice_id="inv_1", amount=4000), TransactionShare(invoice_id="inv_2", amount=5000)])


async def before_removal(platform: Platform) -> tuple[str, MessageData]:
    kind, received = await before_reconcile(platform)
    await platform.send(received, ACCOUNT)
    return "payments", RemovePayment(invoice_id="inv_1", payment_id="bt-tx-1", reason="wrong customer")


async def before_removal_of_a_splits_last_payment(platform: Platform) -> tuple[str, MessageData]:
    kind, split = await before_split(platform)
    await platform.send(split, ACCOUNT)
    await platform.send(RemovePayment(invoice_id="inv_1", payment_id="bt-tx-1-1"), ACCOUNT)
    return "payments", RemovePayment(invoice_id="inv_2", payment_id="bt-tx-1-2")


SCENARIOS = {
    "payments reconcile": before_reconcile,
    "payments match_waiting_transactions": before_match_waiting,
    "payments apply_transaction": before_apply,
    "payments apply_transaction, split": before_split,
    "payments remove (the transaction back in the queue)": before_removal,
    "payments remove (a split's last payment)": before_removal_of_a_splits_last_payment,
}


def stored(under_test: ServiceInMemory) -> dict:
    return {name: copy.deepcopy(documents.rows) for name, documents in under_test.store.collections.items()}


def published(messages: list[Outgoing]) -> list[tuple]:
    return sorted((str(m.envelope.id), m.data.type_name, m.data.model_dump_json()) for m in messages)


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_each_write_failing_once_leaves_no_effect_missing_or_doubled(scenario, monkeypatch):
    # Each handling is compared with the others, so it sees one moment.
    monkeypatch.setattr(Clock, "now", lambda self, account_id: datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    platform = Platform()
    service_name, message = await SCENARIOS[scenario](platform)
    under_test = getattr(platform, service_name)
    before = stored(under_test)
    envelope = Envelope.originate(source="tests", type=message.type_name, subject=message.aggregate_id(),
                                  accountid=ACCOUNT, actor="user:test")
    handler = under_test.consumer.handlers[message.type_name]

    async def handle(fault: tuple[str, str, int] | None) -> tuple[dict, list[tuple]]:
        for name, documents in under_test.store.collections.items():
            documents.rows = copy.deepcopy(before.get(name, {}))
        # The store is rewound behind the service's back: it forgets what it wrote since.
        under_test.service.store.forget_copies()
        under_test.store.writes.clear()
        if fault is not None:
            collection, operation, skip = fault
            under_test.fail_once(collection, operation, skip=skip)
        context = await under_test.consumer._run(handler, envelope, message)
        await context.published()
        return stored(under_test), published(context.emitted)

    expected = await handle(None)
    # The handler's own writes (publishing's clearing of outboxes aside).
    made = [point for point in under_test.store.fault_points() if point[1] in ("insert", "insert_new", "update")]
    assert len(made) >= 2, "a scenario of one write proves nothing here"
    assert expected[1], "the message announces what it did"
    for fault in made:
        assert await handle(fault) == expected, f"write {fault} of {made} failed once"


async def test_the_scenarios_do_what_they_say():
    # What the fault runs are compared with: each scenario's message has its business effect.
    platform = Platform()
    _, received = await before_reconcile(platform)
    matched = [m.data.type_name for m in await platform.send(received, ACCOUNT)]
    assert "payment.matched" in matched and (await platform.payment_book.get(f"{ACCOUNT}/bt-tx-1")).counts
    removed = await platform.send(RemovePayment(invoice_id="inv_1", payment_id="bt-tx-1"), ACCOUNT)
    [unmatched] = [m.data for m in removed if m.data.type_name == "payment.unmatched"]
    assert (unmatched.transaction_id, unmatched.reason) == ("tx-1", "payment_removed")
    assert (await platform.read_model.get(ACCOUNT, "inv_1")).status == "open"
    again = await platform.send(ApplyTransaction(invoice_id="inv_1", transaction_id="tx-1"), ACCOUNT)
    assert "invoice.paid" in [m.data.type_name for m in again]
