"""A person splits one unmatched bank transfer over several invoices (`payment.apply` with a
split), through the whole platform: each invoice gets its payment and reacts as usual."""

import asyncio
import uuid
from datetime import date

from contracts.messages.invoices import FinalizeInvoice
from contracts.messages.payments import ApplyTransaction, BankTransactionReceived, TransactionShare
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice

DUE = 147_350  # what create_invoice's lines come to


async def test_a_transfer_split_over_two_invoices_pays_each_its_share(
    services, producer, event_log, payments_invoices, account_id
):
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    first, second, draft = (f"inv_{uuid.uuid4().hex[:16]}" for _ in range(3))
    for invoice_id in (first, second, draft):
        await producer.send(create_invoice(invoice_id), account_id=account_id)
        await event_log.wait_for_type("invoice.created", invoice_id)
    for invoice_id in (first, second):
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
        await event_log.wait_for_type("invoice.finalized", invoice_id)
    await until_payments_knows(payments_invoices, account_id, {first: "open", second: "open", draft: "draft"})
    transfer = BankTransactionReceived(
        transaction_id=f"tx-{uuid.uuid4().hex[:12]}", iban=PAYEE_IBAN, amount=DUE + 50_000, currency="EUR",
        booked_on=date.today(), remittance_information="two invoices, see our email", debtor_name="Globex Corporation",
    )
    await producer.send(transfer, account_id=account_id, actor="bank-feed")
    assert (await event_log.wait_for_type("payment.unmatched", transfer.transaction_id)).data["reason"] == "no_reference"

    async def apply(*shares: tuple[str, int]) -> dict:
        command = ApplyTransaction(
            invoice_id=shares[0][0], transaction_id=transfer.transaction_id,
            split=[TransactionShare(invoice_id=invoice_id, amount=amount) for invoice_id, amount in shares],
        )
        sent = await producer.send(command, account_id=account_id)
        answer = await event_log.wait_for(
            lambda r: r.headers.get("ce_causationid") == str(sent.id) and r.type in ("payment.rejected", "payment.matched")
        )
        return answer.data

    assert (await apply((first, DUE), (second, 49_999)))["reason"] == "split_mismatch"
    assert (await apply((first, DUE), (draft, 50_000)))["reason"] == "invoice_not_open"
    await apply((first, DUE), (second, 50_000))

    paid = (await event_log.wait_for_type("invoice.paid", first)).data["invoice"]
    assert (paid["status"], paid["amount_paid"]) == ("paid", DUE)
    applied = (await event_log.wait_for_type("invoice.payment_applied", second)).data["invoice"]
    assert (applied["status"], applied["amount_paid"], applied["amount_remaining"]) == ("open", 50_000, DUE - 50_000)
    matched = [event_log.of_type("payment.matched", invoice_id)[0].data for invoice_id in (first, second)]
    assert [(m["payment_id"], m["amount"], m["match"]) for m in matched] == [
        (f"bt-{transfer.transaction_id}-1", DUE, "applied"), (f"bt-{transfer.transaction_id}-2", 50_000, "applied")
    ]
    assert (await apply((second, DUE), (first, 50_000)))["reason"] == "transaction_already_matched"


async def until_payments_knows(payments_invoices, account_id: str, statuses: dict[str, str]) -> None:
    for _ in range(300):
        known = {invoice_id: await payments_invoices.get(account_id, invoice_id) for invoice_id in statuses}
        if all(view is not None and view.status == statuses[i] for i, view in known.items()):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"payments never knew the invoices as {statuses}")
