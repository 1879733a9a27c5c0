"""Accepted commands survive restarts of a service and of Kafka; a crash never loses an event."""

import subprocess
import uuid

from chassis.messaging import Outgoing
from contracts.envelope import Envelope
from contracts.messages.invoices import FinalizeInvoice, InvoiceCommandRejected
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import REPO, invoices_in_store


async def test_commands_sent_while_a_service_is_down_are_handled_when_it_is_back(services, producer, event_log, account_id):
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    services.stop("numbering")
    services.stop("invoices")
    try:
        invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
        await producer.send(create_invoice(invoice_id), account_id=account_id)
        await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finally:
        services.start("invoices")
        services.wait_ready("invoices")
    # numbering is still down: the allocation request waits on its topic ...
    await event_log.wait_for_type("number.allocate", f"{account_id}/INV-{{yyyy}}-{{seq:05}}")
    services.start("numbering")
    services.wait_ready("numbering")
    # ... and is answered once numbering is back.
    finalized = await event_log.wait_for_type("invoice.finalized", invoice_id, timeout=60)
    assert finalized.data["invoice"]["number"].endswith("-00001")


async def test_the_platform_carries_on_after_kafka_restarts(services, producer, event_log, account_id):
    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    subprocess.run(["deploy/stack.sh", "restart", "kafka"], cwd=REPO, check=True, timeout=180)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(create_invoice(invoice_id), account_id=account_id)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = await event_log.wait_for_type("invoice.finalized", invoice_id, timeout=120)
    assert finalized.data["invoice"]["status"] == "open"


async def test_events_left_in_an_outbox_by_a_crash_are_published_at_start(services, event_log, account_id):
    # The state of a crash between "state and outbox written" and "published": an invoice whose
    # outbox still holds an event. The service must publish it when it starts.
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    cause = Envelope.originate(source="tests", type="invoice.void", subject=invoice_id, accountid=account_id, actor="user:test")
    rejection = InvoiceCommandRejected(command_id=str(cause.id), command_type="invoice.void", reason="invalid_status",
                                       message="left behind by a crash", subject_id=invoice_id)
    stranded = Outgoing(cause.caused(source="invoices", type=rejection.type_name, subject=invoice_id, index=0), rejection)
    async with invoices_in_store() as invoices:
        await invoices.documents.insert(
            {"id": invoices.key(account_id, invoice_id), "version": 1, "account_id": account_id, "deleted": True,
             "outbox": [stranded.to_document()]}
        )
        try:
            services.stop("invoices")
            services.start("invoices")
            services.wait_ready("invoices")
            relayed = await event_log.wait_for(lambda r: r.headers.get("ce_id") == str(stranded.envelope.id))
            assert relayed.data["message"] == "left behind by a crash"
            stored = await invoices.documents.get(invoices.key(account_id, invoice_id))
            assert stored["outbox"] == []
        finally:
            await invoices.documents.delete(invoices.key(account_id, invoice_id))
