"""Every record the platform and its CLI publish carries every CloudEvents attribute the design
lists, and a message that starts a flow is caused by itself."""

import asyncio
import json
import uuid
from datetime import date, timedelta

from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from contracts.topics import ALL
from tests.integration.factories import configure_account, create_invoice
from tests.integration.test_cli import invoicing
from tests.integration.test_invoice_clock import day_start
from tests.integration.test_statements import SAMPLES, import_statements

ATTRIBUTES = ("ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_accountid", "ce_correlationid",
              "ce_causationid", "ce_actor", "content-type")


async def test_every_record_of_a_lifecycle_and_of_the_cli_has_every_attribute(
    services, producer, event_log, account_id, test_clock
):
    configure = configure_account(account_id, reminder_schedule=[1]).model_dump(mode="json")
    published = await invoicing("publish", "account.configure", "-", "--account", account_id, "--wait", "0",
                                stdin=json.dumps(configure))
    assert published.returncode == 0, published.stderr
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(create_invoice(invoice_id, days_until_due=14), account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = await event_log.wait_for_type("invoice.finalized", invoice_id)
    await producer.send(SendInvoice(invoice_id=invoice_id), account_id=account_id)
    await event_log.wait_for(lambda r: r.type == "mail.sent" and r.key == invoice_id, timeout=60)
    imported = await asyncio.to_thread(import_statements, SAMPLES / "mt940-unstructured.sta", account_id=account_id)
    assert imported.returncode == 0, imported.stderr
    due = date.fromisoformat(finalized.data["invoice"]["due_date"])
    test_clock.move_to(account_id, day_start(due, 1) + timedelta(seconds=5))
    await event_log.wait_for(lambda r: r.type == "mail.sent" and r.key == invoice_id
                             and r.data["kind"] == "reminder", timeout=60)
    await event_log.wait_for(lambda r: r.type in ("payment.matched", "payment.unmatched")
                             and r.headers.get("ce_accountid") == account_id)
    await asyncio.sleep(2)  # what the last records cause

    records = [r for r in event_log.records if r.topic in ALL and r.headers.get("ce_accountid") == account_id]
    seen = {r.type for r in records}
    assert {"account.configure", "invoice.run_clock", "bank_transaction.received", "invoice.past_due",
            "mail.send_reminder", "mail.sent", "number.allocated"} <= seen, seen
    for record in records:
        missing = [name for name in ATTRIBUTES if not record.headers.get(name)]
        assert not missing, (record.topic, record.type, missing)
    by_id = {r.headers["ce_id"]: r for r in records}
    for record in records:
        cause = record.headers["ce_causationid"]
        if record.headers["ce_source"] == "cli" or record.type == "invoice.run_clock":
            assert cause == record.headers["ce_id"], (record.type, record.headers)
        else:
            # Caused by a record of the flow, or itself when it starts one (the tests' commands).
            assert cause in by_id, (record.type, record.headers)
