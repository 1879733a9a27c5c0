"""Customer balances through the services' real handlers on in-memory stores: an overpayment or a
credit note credits the balance, the next invoice's finalization takes from it on the balance's own
partition and tells the invoice on the invoice's, and payments sees what is left to pay."""

from datetime import date

import pytest

from contracts.messages.balances import RecordCustomerRefund
from contracts.messages.common import Customer
from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.invoices import FinalizeInvoice, VoidInvoice
from contracts.messages.payments import BankTransactionReceived
from contracts.references import format_in_groups
from services.invoices.adapters.customer_balances import CustomerBalances
from tests.integration.factories import CUSTOMER_ADDRESS, PAYEE_IBAN, configure_account, create_invoice
from tests.unit.test_ids_per_account import Platform

A = "acct_a"
CUSTOMER = Customer(id="cus_globex", name="Globex Corporation", email=["ap@globex.example"],
                    address=CUSTOMER_ADDRESS)
KEY = f"{A}/cus_globex/EUR"
TOTAL = 147350  # create_invoice's lines: 1,200.00 at 19 % and 45.50 at 0 %


class BalancePlatform(Platform):
    def __init__(self) -> None:
        super().__init__()
        self.balances = CustomerBalances(self.invoices.store)

    async def finalized(self, invoice_id: str) -> list:
        await self.send(create_invoice(invoice_id, customer=CUSTOMER), A)
        return await self.send(FinalizeInvoice(invoice_id=invoice_id), A)

    async def transfer(self, invoice_id: str, amount: int, transaction_id: str) -> list:
        invoice = await self.invoice_store.get(A, invoice_id)
        return await self.send(BankTransactionReceived(
            transaction_id=transaction_id, iban=PAYEE_IBAN, amount=amount, currency="EUR", booked_on=date.today(),
            remittance_information=f"Invoice {format_in_groups(invoice.payment_reference)}", debtor_name="Globex"), A)


@pytest.fixture
async def platform() -> BalancePlatform:
    platform = BalancePlatform()
    await platform.send(configure_account(A), A)
    return platform


def types(messages) -> list[str]:
    return [m.data.type_name for m in messages]


async def test_an_overpayment_credits_the_balance_once_and_the_next_invoice_takes_it_first(platform):
    await platform.finalized("inv_1")
    caused = await platform.transfer("inv_1", TOTAL + 2650, "tx-1")
    assert "customer_balance.credit" in types(caused)
    assert (await platform.balances.get(KEY)).amount == 2650
    # The same overpayment announced again (a redelivery of the event under another id) credits nothing.
    [applied] = [m for m in caused if m.data.type_name == "invoice.payment_applied"]
    await platform.send(applied.data, A)
    assert (await platform.balances.get(KEY)).amount == 2650

    caused = await platform.finalized("inv_2")
    assert [t for t in types(caused) if t.startswith(("customer_balance.", "invoice.apply_balance"))] == [
        "customer_balance.apply", "customer_balance.changed", "invoice.apply_balance"]
    invoice = await platform.invoice_store.get(A, "inv_2")
    assert (invoice.status, invoice.applied_balance, invoice.amount_remaining) == ("open", 2650, TOTAL - 2650)
    assert (await platform.balances.get(KEY)).amount == 0
    # Payments reads the snapshot: the rest is what a bank transfer must pay.
    assert (await platform.read_model.get(A, "inv_2")).amount_remaining == TOTAL - 2650
    await platform.transfer("inv_2", TOTAL - 2650, "tx-2")
    invoice = await platform.invoice_store.get(A, "inv_2")
    assert (invoice.status, invoice.overpaid_amount) == ("paid", 0)
    assert (await platform.balances.get(KEY)).amount == 0  # paid exactly: nothing more credited


async def test_an_invoice_the_balance_covers_is_paid_in_the_flow_of_its_finalization(platform):
    await platform.finalized("inv_1")
    await platform.transfer("inv_1", 2 * TOTAL, "tx-1")
    caused = await platform.finalized("inv_2")
    assert "invoice.paid" in types(caused)
    invoice = await platform.invoice_store.get(A, "inv_2")
    assert (invoice.status, invoice.applied_balance, invoice.amount_remaining) == ("paid", TOTAL, 0)
    assert invoice.history[-1].detail == {"paid_from": "the customer's balance"}
    assert (await platform.read_model.get(A, "inv_2")).status == "paid"
    balance = await platform.balances.get(KEY)
    assert balance.amount == 0
    assert [(m.kind, m.amount, m.invoice_id) for m in balance.movements] == [
        ("overpayment", TOTAL, "inv_1"), ("invoice_payment", TOTAL, "inv_2")]


async def test_a_credit_note_credited_to_the_balance_pays_the_next_invoice_and_its_refund_is_recorded(platform):
    await platform.finalized("inv_1")
    await platform.transfer("inv_1", TOTAL, "tx-1")
    await platform.send(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_1", amount=4000,
                                         credit_to="customer_balance"), A)
    await platform.send(CreateCreditNote(invoice_id="inv_1", credit_note_id="cn_2", amount=550), A)
    balance = await platform.balances.get(KEY)
    assert (balance.amount, balance.refund_owed) == (4000, 550)

    refused = await platform.send(RecordCustomerRefund(balance_key=KEY, amount=600, paid_on=date(2026, 11, 20),
                                                       reference="SEPA-7", credit_note_id="cn_2"), A)
    assert [(m.data.type_name, m.data.reason) for m in refused] == [("invoice.command_rejected",
                                                                     "refund_exceeds_balance")]
    paid_out = await platform.send(RecordCustomerRefund(balance_key=KEY, amount=550, paid_on=date(2026, 11, 20),
                                                        reference="SEPA-7", credit_note_id="cn_2"), A)
    assert [(m.data.balance, m.data.refunds_owed) for m in paid_out] == [(4000, 0)]

    await platform.finalized("inv_2")
    invoice = await platform.invoice_store.get(A, "inv_2")
    assert (invoice.applied_balance, invoice.amount_remaining) == (4000, TOTAL - 4000)


async def test_a_balance_key_of_another_account_changes_nothing(platform):
    answers = await platform.send(RecordCustomerRefund(balance_key="acct_b/cus_globex/EUR", amount=1,
                                                       paid_on=date(2026, 11, 20), reference="x"), A)
    assert [(m.data.type_name, m.data.reason) for m in answers] == [("invoice.command_rejected", "account_mismatch")]
    assert await platform.balances.get("acct_b/cus_globex/EUR") is None


async def test_voiding_an_invoice_the_balance_paid_part_of_gives_it_back_to_the_balance(platform):
    await platform.finalized("inv_1")
    await platform.transfer("inv_1", TOTAL + 1000, "tx-1")
    await platform.finalized("inv_2")
    await platform.send(VoidInvoice(invoice_id="inv_2", reason="issued twice"), A)
    balance = await platform.balances.get(KEY)
    assert balance.amount == 1000
    assert [m.kind for m in balance.movements] == ["overpayment", "invoice_payment", "invoice_returned"]
