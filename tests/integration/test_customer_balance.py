"""A customer's balance on the real stack: an overpaid invoice credits it, a refund paid out
(recorded by the CLI) lowers it, the customer's next invoice takes what is left at its
finalization, payments sees the lower amount remaining and a transfer of the rest pays it; the
CLI shows every movement and refuses a refund the balance cannot pay."""

import asyncio
import json
import uuid
from datetime import date

from contracts.messages.balances import RecordCustomerRefund, balance_key
from contracts.messages.common import Customer
from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.invoices import FinalizeInvoice
from contracts.messages.payments import BankTransactionReceived
from contracts.references import format_in_groups
from tests.integration.factories import CUSTOMER_ADDRESS, PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import env
from tests.integration.test_read_api import accepted_everywhere, invoicing, new_key

TOTAL = 147_350  # what create_invoice's lines come to


async def test_an_overpayment_pays_the_customers_next_invoice_first(
    services, producer, event_log, payments_invoices, account_id
):
    customer = Customer(id=f"cus_{uuid.uuid4().hex[:8]}", name="Globex Corporation", email=["ap@globex.example"],
                        address=CUSTOMER_ADDRESS)
    key = balance_key(account_id, customer.id, "EUR")
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)

    async def finalized(invoice_id: str) -> dict:
        await producer.send(create_invoice(invoice_id, customer=customer), account_id=account_id)
        await event_log.wait_for_type("invoice.created", invoice_id)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
        return (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]

    async def transfer(invoice: dict, amount: int) -> None:
        await producer.send(BankTransactionReceived(
            transaction_id=f"tx-{uuid.uuid4().hex[:12]}", iban=PAYEE_IBAN, amount=amount, currency="EUR",
            booked_on=date.today(), remittance_information=f"Invoice {format_in_groups(invoice['payment_reference'])}",
            debtor_name="Globex Corporation"), account_id=account_id, actor="bank-feed")

    def balance_after(kind: str):
        return event_log.wait_for(lambda r: r.type == "customer_balance.changed" and r.headers.get("ce_subject") == key
                                  and r.data["movement"]["kind"] == kind)

    first, second = (f"inv_{uuid.uuid4().hex[:16]}" for _ in range(2))
    await transfer(await finalized(first), TOTAL + 5000)
    credited = (await balance_after("overpayment")).data
    assert (credited["balance"], credited["movement"]["invoice_id"]) == (5000, first)

    # A refund of 20.00 paid out, recorded by the CLI as the operators.
    bootstrap = env("KAFKA_BOOTSTRAP_SERVERS")
    refunded = await invoicing("balance", "refund", customer.id, "--account", account_id, "--amount", "20.00",
                               "--reference", "SEPA-0001", "--bootstrap", bootstrap)
    assert refunded.returncode == 0, refunded.stderr
    assert (await balance_after("refund")).data["balance"] == 3000

    opened = await finalized(second)
    assert (opened["status"], opened["amount_remaining"]) == ("open", TOTAL)  # the balance follows, in the same flow
    updated = (await event_log.wait_for_type("invoice.updated", second)).data
    assert updated["changes"] == [{"field": "applied_balance", "before": 0, "after": 3000}]
    assert (updated["invoice"]["applied_balance"], updated["invoice"]["amount_due"],
            updated["invoice"]["amount_remaining"]) == (3000, TOTAL - 3000, TOTAL - 3000)
    assert (await balance_after("invoice_payment")).data["balance"] == 0
    for _ in range(300):
        view = await payments_invoices.get(account_id, second)
        if view is not None and view.amount_remaining == TOTAL - 3000:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("payments never saw what the balance paid")

    await transfer(opened, TOTAL - 3000)
    paid = (await event_log.wait_for_type("invoice.paid", second)).data["invoice"]
    assert (paid["status"], paid["amount_paid"], paid["amount_remaining"]) == ("paid", TOTAL - 3000, 0)

    api_key = (await new_key(account_id))["key"]
    await accepted_everywhere(api_key)
    shown = await invoicing("balance", "show", customer.id, "--json", api_key=api_key)
    assert shown.returncode == 0, shown.stderr
    [balance] = json.loads(shown.stdout)
    assert (balance["currency"], balance["balance"], balance["refunds_owed"]) == ("EUR", 0, 0)
    assert [(m["kind"], m["amount"], m["invoice_id"]) for m in balance["movements"]] == [
        ("overpayment", 5000, first), ("refund", 2000, None), ("invoice_payment", 3000, second)]

    too_much = await invoicing("balance", "refund", customer.id, "--account", account_id, "--amount", "0.01",
                               "--reference", "SEPA-0002", "--bootstrap", bootstrap)
    assert "refund_exceeds_balance" in too_much.stdout, too_much.stdout + too_much.stderr


async def test_a_credit_note_credits_the_customers_balance_or_owes_a_refund(
    services, producer, event_log, account_id
):
    """A paid invoice credited twice: once to the customer's balance, once to a refund, which is
    owed until a refund paid out names it."""
    customer = Customer(id=f"cus_{uuid.uuid4().hex[:8]}", name="Globex Corporation", email=["ap@globex.example"],
                        address=CUSTOMER_ADDRESS)
    key = balance_key(account_id, customer.id, "EUR")
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    await producer.send(create_invoice(invoice_id, customer=customer), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    invoice = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]
    await producer.send(BankTransactionReceived(
        transaction_id=f"tx-{uuid.uuid4().hex[:12]}", iban=PAYEE_IBAN, amount=TOTAL, currency="EUR",
        booked_on=date.today(), remittance_information=f"Invoice {format_in_groups(invoice['payment_reference'])}",
        debtor_name="Globex Corporation"), account_id=account_id, actor="bank-feed")
    await event_log.wait_for_type("invoice.paid", invoice_id)

    def changed(predicate):
        return event_log.wait_for(lambda r: r.type == "customer_balance.changed" and r.headers.get("ce_subject") == key
                                  and predicate(r.data))

    await producer.send(CreateCreditNote(invoice_id=invoice_id, credit_note_id="cn_balance", amount=4000,
                                         credit_to="customer_balance"), account_id=account_id)
    credited = (await changed(lambda data: data["movement"]["credit_note_id"] == "cn_balance")).data
    assert (credited["balance"], credited["refunds_owed"]) == (4000, 0)
    await producer.send(CreateCreditNote(invoice_id=invoice_id, credit_note_id="cn_refund", amount=550),
                        account_id=account_id)
    owed = (await changed(lambda data: data["movement"]["credit_note_id"] == "cn_refund")).data
    assert (owed["balance"], owed["refunds_owed"]) == (4000, 550)

    refund = await producer.send(RecordCustomerRefund(balance_key=key, amount=550, paid_on=date.today(),
                                                      reference="SEPA-CN-1", credit_note_id="cn_refund"),
                                 account_id=account_id)
    paid_out = (await event_log.wait_for(lambda r: r.caused_by(refund))).data
    assert (paid_out["balance"], paid_out["refunds_owed"], paid_out["movement"]["refund_owed"]) == (4000, 0, -550)
