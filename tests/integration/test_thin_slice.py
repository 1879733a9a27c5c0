"""One invoice travels the whole path through real Kafka, PostgreSQL and SMTP, driven only by Kafka.

create -> finalize -> numbering allocates INV-<year>-00001 -> invoice.finalized -> send -> the SMTP
server receives the email with the PDF -> a bank transfer to the invoice's IBAN with its reference
-> payment.matched -> invoice.paid.
"""

import email
import email.policy
import io
import uuid
from datetime import UTC, date, datetime

import httpx
from pypdf import PdfReader

from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from contracts.messages.payments import BankTransactionReceived
from contracts.references import format_in_groups
from tests.integration.factories import PAYEE_IBAN, configure_account, create_invoice
from tests.integration.harness import stored_invoice


async def test_an_invoice_from_creation_to_payment(services, producer, event_log, account_id, smtp_catcher_url):
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    customer_email = f"ap+{invoice_id}@globex.example"
    year = datetime.now(UTC).year

    await producer.send(configure_account(account_id), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)

    invoice = create_invoice(invoice_id)
    invoice = invoice.model_copy(update={"customer": invoice.customer.model_copy(update={"email": [customer_email]})})
    create = await producer.send(invoice, account_id=account_id, actor="user:alice")
    created = await event_log.wait_for_type("invoice.created", invoice_id)
    assert created.envelope.causationid == str(create.id)
    assert created.data["invoice"]["status"] == "draft" and created.data["invoice"]["number"] is None

    finalize = await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    allocated = await event_log.wait_for_type("number.allocated", invoice_id)
    assert allocated.data["number"] == f"INV-{year}-00001"
    assert allocated.envelope.correlationid == finalize.correlationid
    finalized = (await event_log.wait_for_type("invoice.finalized", invoice_id)).data["invoice"]
    assert finalized["status"] == "open"
    assert finalized["number"] == f"INV-{year}-00001"
    assert finalized["amount_due"] == 147350
    reference = finalized["payment_reference"]

    await producer.send(SendInvoice(invoice_id=invoice_id), account_id=account_id)
    sent = await event_log.wait_for_type("invoice.sent", invoice_id, timeout=60)
    assert sent.data["to"] == [customer_email]

    mails = [m for m in httpx.get(f"{smtp_catcher_url}/messages").json() if customer_email in m["rcpt_tos"]]
    assert len(mails) == 1
    raw = httpx.get(f"{smtp_catcher_url}/messages/{mails[0]['id']}").content
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert f"INV-{year}-00001" in message["Subject"]
    assert message["From"].addresses[0].addr_spec == "billing@acme.example"
    assert message["Reply-To"].addresses[0].addr_spec == "accounts@acme.example"
    pdfs = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdfs[0].get_content())).pages)
    assert f"INV-{year}-00001" in pdf_text
    assert "1,473.50" in pdf_text or "1473.50" in pdf_text or "1.473,50" in pdf_text

    transfer = BankTransactionReceived(
        transaction_id=f"tx-{uuid.uuid4().hex[:12]}", iban=PAYEE_IBAN, amount=147350, currency="EUR",
        booked_on=date.today(), remittance_information=f"Invoice payment {format_in_groups(reference)}",
        debtor_name="Globex Corporation",
    )
    await producer.send(transfer, account_id=account_id, actor="bank-feed")
    matched = await event_log.wait_for_type("payment.matched", invoice_id)
    assert (matched.data["amount"], matched.data["match"]) == (147350, "automatic")
    paid = (await event_log.wait_for_type("invoice.paid", invoice_id)).data["invoice"]
    assert (paid["status"], paid["amount_paid"], paid["amount_remaining"]) == ("paid", 147350, 0)

    stored = await stored_invoice(account_id, invoice_id, settled=lambda document: not document["outbox"])
    assert stored["status"] == "paid"
    assert stored["number"] == f"INV-{year}-00001"
    assert stored["last_sent_to"] == [customer_email]
    assert stored["outbox"] == []
    actions = [entry["action"] for entry in stored["history"]]
    assert actions == ["created", "finalization_requested", "finalized", "send_requested", "email_queued",
                       "email_sent", "payment_applied", "paid"]
