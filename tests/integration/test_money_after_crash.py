"""Every money path, for several invoices at once, with each service killed (SIGKILL) and restarted
in the middle: once the platform is quiet, `invoicing audit` finds invoices (their credit notes and
the customer balances among them), payments and numbering in agreement, and every path ended as it
should.

A path is one small function of a `Books` (one account's invoices, seen through the platform's
topics); PATHS lists them, so a new money path is one more function in the list.
"""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import date

from contracts.messages import MessageData
from contracts.messages.balances import balance_key
from contracts.messages.common import Customer
from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.invoices import FinalizeInvoice, MarkInvoicePaid, MarkInvoiceUnpaid, ReviseInvoice
from contracts.messages.payments import (
    ApplyTransaction,
    BankTransactionReceived,
    RecordPayment,
    RemovePayment,
    TransactionShare,
)
from tests.integration.factories import CUSTOMER_ADDRESS, PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import SERVICES
from tests.integration.test_read_api import accepted_everywhere, invoicing, new_key
from tests.integration.test_split_payments import until_payments_knows

ROUNDS = 3  # each path this many times, all at once
WAIT = 120  # seconds an answer may take while a service restarts


class Books:
    def __init__(self, producer, event_log, payments_invoices, account_id: str) -> None:
        self.producer, self.event_log, self.payments_invoices = producer, event_log, payments_invoices
        self.account_id = account_id

    async def send(self, data: MessageData, actor: str = "user:test"):
        return await self.producer.send(data, account_id=self.account_id, actor=actor)

    async def event(self, type_name: str, subject: str, where: Callable[[dict], bool] = lambda data: True) -> dict:
        found = await self.event_log.wait_for(
            lambda r: r.type == type_name and r.headers.get("ce_subject") == subject and where(r.data), WAIT)
        return found.data

    async def answer(self, command) -> dict:
        """The first record the command caused."""
        return (await self.event_log.wait_for(lambda r: r.caused_by(command), WAIT)).data

    async def open_invoice(self, **fields) -> dict:
        """A new finalized invoice, once payments knows it is open; its snapshot."""
        invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
        await self.send(create_invoice(invoice_id, **fields))
        await self.event("invoice.created", invoice_id)
        return await self.finalized(invoice_id)

    async def finalized(self, invoice_id: str) -> dict:
        await self.send(FinalizeInvoice(invoice_id=invoice_id))
        invoice = (await self.event("invoice.finalized", invoice_id))["invoice"]
        await until_payments_knows(self.payments_invoices, self.account_id, {invoice_id: "open"})
        return invoice

    def transfer(self, amount: int, remittance: str) -> BankTransactionReceived:
        return BankTransactionReceived(
            transaction_id=f"tx-{uuid.uuid4().hex[:12]}", iban=PAYEE_IBAN, amount=amount, currency="EUR",
            booked_on=date.today(), remittance_information=remittance, debtor_name="Globex Corporation")

    async def paid_by_transfer(self) -> tuple[dict, BankTransactionReceived]:
        invoice = await self.open_invoice()
        transfer = self.transfer(invoice["total"], f"Invoice {invoice['number']}")
        await self.send(transfer, actor="bank-feed")
        await self.event("invoice.paid", invoice["id"])
        return invoice, transfer


async def manual_payment(books: Books) -> None:
    invoice = await books.open_invoice()
    await books.send(RecordPayment(invoice_id=invoice["id"], payment_id=f"cash-{uuid.uuid4().hex[:8]}",
                                   amount=invoice["total"], currency="EUR", paid_on=date.today(), method="cash"))
    await books.event("invoice.paid", invoice["id"])


async def matched_transfer(books: Books) -> None:
    await books.paid_by_transfer()


async def split_transfer(books: Books) -> None:
    first, second = await books.open_invoice(), await books.open_invoice()
    transfer = books.transfer(first["total"] + 1000, "two invoices, see our email")
    await books.send(transfer, actor="bank-feed")
    await books.event("payment.unmatched", transfer.transaction_id)
    await books.send(ApplyTransaction(invoice_id=first["id"], transaction_id=transfer.transaction_id, split=[
        TransactionShare(invoice_id=first["id"], amount=first["total"]),
        TransactionShare(invoice_id=second["id"], amount=1000)]))
    await books.event("invoice.paid", first["id"])
    await books.event("invoice.payment_applied", second["id"], lambda data: data["invoice"]["amount_paid"] == 1000)


async def payment_removed(books: Books) -> None:
    """Removed, the transfer is back in the unmatched queue and the invoice open again."""
    invoice, transfer = await books.paid_by_transfer()
    await books.send(RemovePayment(invoice_id=invoice["id"], payment_id=f"bt-{transfer.transaction_id}",
                                   reason="another customer's"))
    await books.event("payment.unmatched", transfer.transaction_id, lambda data: data["reason"] == "payment_removed")
    reopened = await books.event("invoice.marked_unpaid", invoice["id"])
    assert (reopened["invoice"]["status"], reopened["invoice"]["amount_paid"]) == ("open", 0)


async def marked_paid(books: Books) -> None:
    invoice = await books.open_invoice()
    await books.send(MarkInvoicePaid(invoice_id=invoice["id"], paid_on=date.today(), note="cash at the office"))
    paid = await books.event("invoice.paid", invoice["id"])
    assert paid["invoice"]["out_of_band_payment"]["note"] == "cash at the office"


async def mark_unpaid_refused(books: Books) -> None:
    invoice, _ = await books.paid_by_transfer()
    command = await books.send(MarkInvoiceUnpaid(invoice_id=invoice["id"], reason="not paid after all"))
    answer = await books.answer(command)
    assert answer["reason"] == "payments_recorded" and "payment.remove" in answer["message"], answer


async def mark_unpaid_allowed(books: Books) -> None:
    invoice = await books.open_invoice()
    await books.send(MarkInvoicePaid(invoice_id=invoice["id"]))
    await books.event("invoice.paid", invoice["id"])
    await books.send(MarkInvoiceUnpaid(invoice_id=invoice["id"], reason="the cheque bounced"))
    reopened = await books.event("invoice.marked_unpaid", invoice["id"])
    assert (reopened["invoice"]["status"], reopened["invoice"]["amount_remaining"]) == ("open", invoice["total"])


async def credited_then_paid(books: Books) -> None:
    """A credit note takes part of an open invoice back; a transfer of the rest pays it."""
    invoice = await books.open_invoice()
    await books.send(CreateCreditNote(invoice_id=invoice["id"], credit_note_id=f"cn_{uuid.uuid4().hex[:12]}",
                                      amount=1000, reason="order_change"))
    issued = (await books.event("credit_note.issued", invoice["id"]))["credit_note"]
    assert (issued["pre_payment_amount"], issued["number"].startswith("CN-")) == (1000, True)
    await books.send(books.transfer(invoice["total"] - 1000, f"Invoice {invoice['number']}"), actor="bank-feed")
    paid = await books.event("invoice.paid", invoice["id"])
    assert (paid["invoice"]["amount_paid"], paid["invoice"]["amount_credited"]) == (invoice["total"] - 1000, 1000)


async def overpaid_then_balance(books: Books) -> None:
    """An overpayment goes to the customer's balance, and the customer's next invoice takes it first."""
    customer = Customer(id=f"cus_{uuid.uuid4().hex[:8]}", name="Globex Corporation", email=["ap@globex.example"],
                        address=CUSTOMER_ADDRESS)
    first = await books.open_invoice(customer=customer)
    await books.send(books.transfer(first["total"] + 500, f"Invoice {first['number']}"), actor="bank-feed")
    await books.event("customer_balance.changed", balance_key(books.account_id, customer.id, "EUR"),
                      lambda data: data["movement"]["kind"] == "overpayment")
    second_id = f"inv_{uuid.uuid4().hex[:16]}"
    await books.send(create_invoice(second_id, customer=customer))
    await books.event("invoice.created", second_id)
    await books.send(FinalizeInvoice(invoice_id=second_id))
    second = (await books.event("invoice.updated", second_id,
                                lambda data: data["invoice"]["applied_balance"] == 500))["invoice"]
    await books.send(books.transfer(second["amount_remaining"], f"Invoice {second['number']}"), actor="bank-feed")
    await books.event("invoice.paid", second_id)


async def revised_with_its_payment(books: Books) -> None:
    """A revision replaces an invoice paid in part: the original is void, the payment follows."""
    original = await books.open_invoice()
    await books.send(RecordPayment(invoice_id=original["id"], payment_id=f"cash-{uuid.uuid4().hex[:8]}",
                                   amount=1000, currency="EUR", paid_on=date.today(), method="cash"))
    await books.event("invoice.payment_applied", original["id"])
    revision_id = f"inv_{uuid.uuid4().hex[:16]}"
    await books.send(ReviseInvoice(invoice_id=original["id"], new_invoice_id=revision_id))
    created = (await books.event("invoice.created", revision_id))["invoice"]
    assert created["replaces"] == {"number": original["number"], "issued_on": original["finalized_at"][:10]}
    await books.send(FinalizeInvoice(invoice_id=revision_id))
    await books.event("invoice.voided", original["id"])
    moved = await books.event("invoice.payment_applied", revision_id)
    assert moved["invoice"]["amount_paid"] == 1000


PATHS: list[Callable[[Books], Awaitable[None]]] = [
    manual_payment, matched_transfer, split_transfer, payment_removed, marked_paid, mark_unpaid_refused,
    mark_unpaid_allowed, credited_then_paid, overpaid_then_balance, revised_with_its_payment,
]
# What each round of PATHS leaves for the audit to compare: invoices (the split and the balance
# open two each, a revision makes one more), those payments counts a payment for (not the one
# whose payment was removed, the two marked paid by hand, nor a revised original: its payment
# moved), and numbers (every invoice's, and the credit note's).
INVOICES, WITH_PAYMENTS, NUMBERS = 13, 9, 14


async def audit(account_id: str, key: str) -> tuple[int, dict]:
    run = await invoicing("audit", "--account", account_id, "--json", api_key=key)
    assert run.returncode in (0, 1), run.stderr
    return run.returncode, json.loads(run.stdout)


async def test_every_money_path_with_a_kill_9_in_the_middle_leaves_the_services_in_agreement(
        services, producer, event_log, payments_invoices, account_id):
    key = (await new_key(account_id))["key"]
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    await accepted_everywhere(key)
    books = Books(producer, event_log, payments_invoices, account_id)

    async def staggered(path: Callable[[Books], Awaitable[None]], start: float) -> None:
        await asyncio.sleep(start)
        await path(books)

    flows = [path for _ in range(ROUNDS) for path in PATHS]
    run = asyncio.gather(*(staggered(path, position * 0.4) for position, path in enumerate(flows)))
    for service in SERVICES:
        await asyncio.sleep(2)
        assert not run.done(), f"every path ended before {service} was killed"
        services.kill(service)
        services.start(service)
        await asyncio.to_thread(services.wait_ready, service)
    await run

    # Quiet: the last answers are out, but a read model may still be taking in its events.
    for _ in range(30):
        code, report = await audit(account_id, key)
        if code == 0:
            break
        await asyncio.sleep(1)
    assert (code, report["differences"]) == (0, []), report
    # Every path's invoices were audited.
    assert (report["invoices"], report["invoices_paid"], report["numbers"]) == (
        ROUNDS * INVOICES, ROUNDS * WITH_PAYMENTS, ROUNDS * NUMBERS), report
    print(f"audit after the kill -9 run: {report}")
