"""Ids per account against the real stack: two accounts use the same invoice id (and bank
transaction id) through a whole lifecycle each; another account's commands and events naming an
account's ids leave it unchanged; another account's id answers exactly as an id nobody has.

The honest tenant acts through commands (after the Kafka ACLs only the invoices service writes
invoices.events); the forgeries at the end are written as a test producer, as on this branch any
client still can, to test the handlers' own checks.
"""

import asyncio
import re
import uuid
from datetime import UTC, date, datetime

import httpx
import pytest

from contracts.envelope import Envelope
from contracts.messages import MessageData
from contracts.messages.common import Customer
from contracts.messages.invoices import (
    DeleteInvoice,
    FinalizeInvoice,
    InvoiceChanges,
    InvoiceDeleted,
    InvoiceFinalized,
    MarkInvoicePaid,
    SendInvoice,
    UpdateInvoice,
    VoidInvoice,
)
from contracts.messages.payments import BankTransactionReceived, PaymentMatched, RecordPayment
from contracts.references import format_in_groups
from tests.integration.factories import CUSTOMER_ADDRESS, PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import Received, internal_url
from tests.integration.test_read_api import accepted_everywhere, new_key, read

ID = "inv_2026_0001"
TRANSACTION = "tx-2026-0001"
YEAR = datetime.now(UTC).year


@pytest.fixture
def accounts() -> tuple[str, str]:
    return tuple(f"acct_{name}_{uuid.uuid4().hex[:8]}" for name in ("a", "b"))


@pytest.fixture
def ask(producer, event_log):
    """Send as `account` and wait for the first message of `answer_type` in the command's flow."""

    async def send_and_wait(message: MessageData, answer_type: str, account: str, timeout: float = 30) -> Received:
        sent = await producer.send(message, account_id=account)
        return await event_log.wait_for(lambda r: r.type == answer_type and r.headers.get("ce_accountid") == account
                                        and r.headers.get("ce_correlationid") == sent.correlationid, timeout)

    return send_and_wait


def metric(service: str, sample: str) -> float:
    text = httpx.get(internal_url(service, "/metrics"), timeout=5).text
    found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def grows(service: str, sample: str, before: float) -> None:
    for _ in range(300):
        if metric(service, sample) > before:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{service}: {sample} never grew past {before}")


def dropped(type_name: str, reason: str) -> str:
    return f'invoicing_messages_dropped_total{{reason="{reason}",type="{type_name}"}}'


def handled(type_name: str) -> str:
    return f'invoicing_messages_consumed_total{{outcome="handled",topic="invoices.events",type="{type_name}"}}'


def mails_to(catcher: str, domain: str) -> list[str]:
    messages = httpx.get(f"{catcher}/messages", timeout=10).json()
    return sorted(r for m in messages for r in m["rcpt_tos"] if r.endswith(f"@{domain}"))


async def open_invoice(ask, account: str, **configured) -> dict:
    """The account configured, and its invoice ID created and finalized: its snapshot."""
    await ask(configure_account(account, **configured), "account.configured", account)
    await ask(create_invoice(ID), "invoice.created", account)
    return (await ask(FinalizeInvoice(invoice_id=ID), "invoice.finalized", account)).data["invoice"]


async def test_two_accounts_each_take_the_same_ids_through_a_whole_lifecycle(
        services, ask, accounts, smtp_catcher_url):
    domains = {account: f"{uuid.uuid4().hex[:8]}.example" for account in accounts}
    for account in accounts:
        await ask(configure_account(account, company_name=f"Company {account}"), "account.configured", account)
        customer = Customer(name="Globex Corporation", email=[f"ap@{domains[account]}"], language="en",
                            address=CUSTOMER_ADDRESS)
        created = await ask(create_invoice(ID, customer=customer), "invoice.created", account)
        assert created.data["invoice"]["account_id"] == account
        finalized = (await ask(FinalizeInvoice(invoice_id=ID), "invoice.finalized", account)).data["invoice"]
        assert finalized["number"] == f"INV-{YEAR}-00001"  # each account's own series
        sent = await ask(SendInvoice(invoice_id=ID), "invoice.sent", account, timeout=60)
        assert sent.data["to"] == [f"ap@{domains[account]}"]
        transfer = BankTransactionReceived(
            transaction_id=TRANSACTION, iban=PAYEE_IBAN, amount=finalized["amount_due"], currency="EUR",
            booked_on=date.today(), remittance_information=f"Invoice {format_in_groups(finalized['payment_reference'])}",
            debtor_name="Globex Corporation",
        )
        paid = await ask(transfer, "invoice.paid", account)
        assert paid.data["invoice"]["status"] == "paid"
    for account in accounts:
        assert mails_to(smtp_catcher_url, domains[account]) == [f"ap@{domains[account]}"]

    keys = {account: (await new_key(account))["key"] for account in accounts}
    for key in keys.values():
        await accepted_everywhere(key)
    for account in accounts:
        shown = (await read("invoices", f"/v1/invoices/{ID}", keys[account])).json()
        assert (shown["invoice"]["account_id"], shown["invoice"]["status"], shown["invoice"]["number"],
                shown["invoice"]["issuer"]["company_name"]) == (account, "paid", f"INV-{YEAR}-00001", f"Company {account}")
        history = (await read("invoices", f"/v1/invoices/{ID}/history", keys[account])).json()
        assert [e["action"] for e in history["data"]].count("email_sent") == 1
        [payment] = (await read("payments", f"/v1/invoices/{ID}/payments", keys[account])).json()["data"]
        assert (payment["transaction_id"], payment["account_id"]) == (TRANSACTION, account)
        [report] = (await read("numbering", "/v1/numbering/continuity", keys[account])).json()
        assert report["series_key"].startswith(f"{account}/")
        [sequence] = report["sequences"]
        assert (sequence["held"], sequence["gaps"]) == (1, [])
        by_number = await read("invoices", f"/v1/invoices/by-number/INV-{YEAR}-00001", keys[account])
        assert by_number.json()["invoice"]["account_id"] == account


async def test_another_accounts_id_answers_exactly_as_an_id_nobody_has(services, ask, accounts):
    a, b = accounts
    before = await open_invoice(ask, a)
    await ask(configure_account(b), "account.configured", b)
    nobody = f"inv_nobody_{uuid.uuid4().hex[:8]}"
    for command in (UpdateInvoice(invoice_id=ID, changes=InvoiceChanges(memo="mine now")),
                    VoidInvoice(invoice_id=ID), MarkInvoicePaid(invoice_id=ID), SendInvoice(invoice_id=ID)):
        foreign = (await ask(command, "invoice.command_rejected", b)).data
        unknown = (await ask(command.model_copy(update={"invoice_id": nobody}), "invoice.command_rejected", b)).data
        assert (foreign["reason"], foreign["message"]) == ("unknown_invoice", f"There is no invoice {ID!r}.")
        assert unknown["message"] == foreign["message"].replace(ID, nobody)
    payment = RecordPayment(invoice_id=ID, payment_id="p-1", amount=100, currency="EUR", paid_on=date.today())
    foreign = (await ask(payment, "payment.rejected", b)).data
    unknown = (await ask(payment.model_copy(update={"invoice_id": nobody}), "payment.rejected", b)).data
    assert (foreign["reason"], foreign["message"]) == (unknown["reason"], unknown["message"])
    assert foreign["reason"] == "unknown_invoice"

    key = (await new_key(a))["key"]
    other_key = (await new_key(b))["key"]
    for k in (key, other_key):
        await accepted_everywhere(k)
    shown = (await read("invoices", f"/v1/invoices/{ID}", key)).json()["invoice"]
    assert (shown["version"], shown["status"], shown["memo"], shown["amount_paid"]) == (
        before["version"], "open", before["memo"], 0)
    for path in (f"/v1/invoices/{ID}", f"/v1/invoices/{ID}/history", f"/v1/invoices/{nobody}"):
        answer = await read("invoices", path, other_key)
        assert (answer.status_code, answer.json()) == (404, {"detail": "No such invoice."})


async def test_an_honest_tenant_using_the_same_id_leaves_the_other_tenants_invoice_as_it_was(services, ask, accounts):
    a, b = accounts
    await open_invoice(ask, a)
    # B takes the same id, finalizes it with a number of its own series, and deletes it: its number
    # becomes a gap in its series, and nothing of A's changes.
    b_invoice = await open_invoice(ask, b, delete_finalized_invoices=True)
    assert (b_invoice["account_id"], b_invoice["number"]) == (b, f"INV-{YEAR}-00001")
    await ask(UpdateInvoice(invoice_id=ID, changes=InvoiceChanges(memo="B's memo")), "invoice.updated", b)
    await ask(DeleteInvoice(invoice_id=ID, reason="issued by mistake"), "number.released", b)

    keys = {account: (await new_key(account))["key"] for account in accounts}
    for key in keys.values():
        await accepted_everywhere(key)
    [a_report] = (await read("numbering", "/v1/numbering/continuity", keys[a])).json()
    assert (a_report["sequences"][0]["held"], a_report["sequences"][0]["gaps"]) == (1, [])
    [b_report] = (await read("numbering", "/v1/numbering/continuity", keys[b])).json()
    assert [gap["reason"] for gap in b_report["sequences"][0]["gaps"]] == ["issued by mistake"]
    shown = (await read("invoices", f"/v1/invoices/{ID}", keys[a])).json()["invoice"]
    assert (shown["status"], shown["memo"]) == ("open", "Thank you for your business.")
    # payments still knows A's invoice: a payment for it counts.
    payment = RecordPayment(invoice_id=ID, payment_id="p-1", amount=100, currency="EUR", paid_on=date.today())
    assert (await ask(payment, "payment.matched", a)).data["invoice_id"] == ID
    assert (await read("invoices", f"/v1/invoices/{ID}", keys[b])).status_code == 404  # B's is deleted


async def test_forged_events_of_another_account_naming_an_accounts_ids_change_nothing(
        services, producer, ask, accounts):
    a, b = accounts
    snapshot = await open_invoice(ask, a)

    async def forge(data: MessageData, source: str) -> None:
        envelope = Envelope.originate(source=source, type=data.type_name, subject=data.aggregate_id(), accountid=b,
                                      actor=f"service:{source}")
        await producer.send(data, account_id=b, envelope=envelope)

    # B's deletion of "its" invoice ID, as numbering and payments would hear of one.
    deletions = metric("numbering", handled("invoice.deleted"))
    await forge(InvoiceDeleted(invoice_id=ID, status="open", number=snapshot["number"],
                               series_key=f"{a}/INV-{{yyyy}}-{{seq:05}}", reason="deleted by B",
                               deleted_at=datetime.now(UTC)), "invoices")
    await grows("numbering", handled("invoice.deleted"), deletions)
    # B's snapshot of "its" invoice ID, with a version that would win any comparison: it is B's.
    takeover = {**snapshot, "account_id": b, "version": 10**9, "status": "void"}
    finalized = metric("payments", handled("invoice.finalized"))
    await forge(InvoiceFinalized(invoice_id=ID, invoice=takeover, hosted_token="t" * 43), "invoices")
    await grows("payments", handled("invoice.finalized"), finalized)
    # A payment of B's naming ID: invoices has no invoice ID of B's.
    drops = metric("invoices", dropped("payment.matched", "unknown_invoice"))
    await forge(PaymentMatched(invoice_id=ID, payment_id="p-forged", amount=snapshot["amount_due"], currency="EUR",
                               paid_on=date.today(), method="bank_transfer", match="automatic", online=True), "payments")
    await grows("invoices", dropped("payment.matched", "unknown_invoice"), drops)

    key = (await new_key(a))["key"]
    await accepted_everywhere(key)
    [report] = (await read("numbering", "/v1/numbering/continuity", key)).json()
    assert (report["sequences"][0]["held"], report["sequences"][0]["gaps"], report["breaks"]) == (1, [], 0)
    shown = (await read("invoices", f"/v1/invoices/{ID}", key)).json()
    assert (shown["invoice"]["status"], shown["invoice"]["version"], shown["payments"]) == ("open", snapshot["version"], [])
    # payments still holds A's invoice as A described it: A's own payment counts towards it.
    payment = RecordPayment(invoice_id=ID, payment_id="p-1", amount=100, currency="EUR", paid_on=date.today())
    assert (await ask(payment, "payment.matched", a)).data["invoice_id"] == ID
