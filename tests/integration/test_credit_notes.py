"""Credit notes through the whole platform: numbered from the account's own credit-note series,
issued with their effect on the invoice, which payments sees; what is left is paid by a bank
transfer, a credit beyond the rest is refused, and a paid invoice is credited to a refund."""

import asyncio
import uuid
from datetime import date

from chassis.storage import open_store
from contracts.messages.credit_notes import CreateCreditNote
from contracts.messages.invoices import FinalizeInvoice
from contracts.messages.payments import BankTransactionReceived
from services.numbering.adapters.ledger import Ledger
from services.numbering.api import account_continuity
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import database_url, env
from tests.integration.test_read_api import accepted_everywhere, invoicing, new_key, read

TOTAL = 147_350  # what create_invoice's lines come to
CREDITED = 47_350


async def test_a_credit_note_lowers_what_is_owed_and_a_paid_invoice_is_credited_to_a_refund(
    services, producer, event_log, payments_invoices, account_id
):
    await producer.send(configure_account(account_id, credit_note_number_format="AV-{yyyy}-{seq:03}"),
                        account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", invoice_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]

    async def answer(command: CreateCreditNote) -> tuple[str, dict]:
        sent = await producer.send(command, account_id=account_id)

        def answers(r) -> bool:
            if r.type == "invoice.command_rejected":
                return r.headers.get("ce_causationid") == str(sent.id)
            return (r.type == "credit_note.issued" and r.headers.get("ce_accountid") == account_id
                    and r.data["credit_note"]["id"] == command.credit_note_id)

        record = await event_log.wait_for(answers)
        return record.type, record.data

    kind, issued = await answer(CreateCreditNote(invoice_id=invoice_id, credit_note_id="cn_1", amount=CREDITED,
                                                 reason="order_change"))
    assert kind == "credit_note.issued"
    note = issued["credit_note"]
    year = date.today().year
    assert (note["number"], note["invoice_number"], note["status"]) == (f"AV-{year}-001", finalized["number"],
                                                                        "issued")
    assert (note["total"], note["pre_payment_amount"], note["refund_amount"]) == (CREDITED, CREDITED, 0)
    updated = (await event_log.wait_for_type("invoice.updated", invoice_id)).data["invoice"]
    assert (updated["status"], updated["amount_credited"], updated["amount_remaining"]) == (
        "open", CREDITED, TOTAL - CREDITED)

    # payments' read model sees what is left, and a bank transfer of it pays the invoice.
    view = await until(lambda: payments_invoices.get(account_id, invoice_id),
                       lambda view: view is not None and view.amount_remaining == TOTAL - CREDITED)
    transfer = BankTransactionReceived(
        transaction_id=f"tx-{uuid.uuid4().hex[:12]}", iban=PAYEE_IBAN, amount=TOTAL - CREDITED, currency="EUR",
        booked_on=date.today(), remittance_information=view.payment_reference, debtor_name="Globex Corporation")
    await producer.send(transfer, account_id=account_id, actor="bank-feed")
    paid = (await event_log.wait_for_type("invoice.paid", invoice_id)).data["invoice"]
    assert (paid["amount_paid"], paid["amount_remaining"]) == (TOTAL - CREDITED, 0)

    kind, refused = await answer(CreateCreditNote(invoice_id=invoice_id, credit_note_id="cn_2",
                                                  amount=TOTAL - CREDITED + 1))
    assert (kind, refused["reason"], refused["command_type"]) == ("invoice.command_rejected",
                                                                  "credit_exceeds_invoice", "credit_note.create")

    # The CLI, as an operator runs it.
    created = await invoicing("credit-note", "create", invoice_id, "cn_3", "--amount", "10000", "--reason",
                              "product_unsatisfactory", "--credit-to", "refund", "--account", account_id,
                              "--wait", "0", "--bootstrap", env("KAFKA_BOOTSTRAP_SERVERS"))
    assert created.returncode == 0, created.stderr
    note = (await event_log.wait_for(lambda r: r.type == "credit_note.issued" and r.headers.get("ce_subject") == invoice_id
                                     and r.data["credit_note"]["id"] == "cn_3")).data["credit_note"]
    assert note["number"] == f"AV-{year}-002"  # cn_2 took no number
    assert (note["pre_payment_amount"], note["refund_amount"], note["customer_balance_amount"]) == (0, 10_000, 0)
    after = await event_log.wait_for(lambda r: r.type == "invoice.updated" and r.headers.get("ce_subject") == invoice_id
                                     and r.data["invoice"]["amount_credited"] == CREDITED + 10_000)
    assert (after.data["invoice"]["status"], after.data["invoice"]["amount_remaining"]) == ("paid", 0)

    # Numbering's ledger: the credit-note series beside the invoice series, each continuous.
    store = open_store(database_url("numbering"), "numbering")
    await store.open()
    try:
        reports = await account_continuity(Ledger(store), account_id)
    finally:
        await store.close()
    assert [(r.series_key, r.sequences[0].held, r.breaks) for r in reports] == [
        (f"{account_id}/AV-{{yyyy}}-{{seq:03}}", 2, 0), (f"{account_id}/INV-{{yyyy}}-{{seq:05}}", 1, 0)]

    # The read API lists both credit notes and the export has a row for each after the invoice's.
    key = (await new_key(account_id))["key"]
    await accepted_everywhere(key)
    listed = (await read("invoices", "/v1/credit-notes", key, invoice_id=invoice_id)).json()
    assert [(n["id"], n["number"]) for n in listed["data"]] == [("cn_1", f"AV-{year}-001"), ("cn_3", f"AV-{year}-002")]
    exported = (await read("invoices", "/v1/invoices/export.csv", key)).text.splitlines()
    assert [line.split(",")[0] for line in exported[1:]] == [invoice_id, "cn_1", "cn_3"]
    shown = await invoicing("credit-note", "show", "cn_3", api_key=key)
    assert shown.returncode == 0 and f"AV-{year}-002" in shown.stdout and "€100.00" in shown.stdout
    assert (await invoicing("credit-note", "show", "cn_2", api_key=key)).returncode == 1  # refused: none
    history = (await read("invoices", f"/v1/invoices/{invoice_id}/history", key)).json()["data"]
    assert [entry["action"] for entry in history if "credit_note" in entry["action"]] == [
        "credit_note_requested", "credit_note_issued", "credit_note_requested", "credit_note_issued"]


async def until(read, done, attempts: int = 300):
    for _ in range(attempts):
        if done(value := await read()):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("never came true")
