"""EN 16931 at finalization on the real stack: an invoice that would be an invalid e-invoice is
refused naming the rule, and no number of the series is spent on it."""

import uuid
from datetime import UTC, datetime

from contracts.messages.invoices import FinalizeInvoice
from tests.integration.factories import COMPANY_TAX_ID, configure_account, create_invoice


async def test_an_account_without_vat_id_finalizing_a_19_percent_invoice_is_refused_br_s_02_and_no_number_is_allocated(
        services, producer, event_log, account_id):
    await producer.send(configure_account(account_id, company_tax_id=""), account_id=account_id)
    await event_log.wait_for_type("account.configured", account_id)
    invoice_id = f"inv_{uuid.uuid4().hex[:16]}"
    await producer.send(create_invoice(invoice_id), account_id=account_id)  # a 19 % line and a 0 % one
    await event_log.wait_for_type("invoice.created", invoice_id)

    refused = await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    rejection = await event_log.wait_for(lambda r: r.type == "invoice.command_rejected"
                                         and r.data["command_id"] == str(refused.id))
    assert rejection.data["reason"] == "einvoice_rule_violation"
    assert rejection.data["message"].startswith("BR-S-02: ")

    # Configured with its VAT id, the same draft takes the series' first number: none went to the refusal.
    await producer.send(configure_account(account_id, company_tax_id=COMPANY_TAX_ID), account_id=account_id)
    await event_log.wait_for(lambda r: r.type == "account.configured" and r.headers.get("ce_subject") == account_id
                             and r.data["settings"]["company_tax_id"] == COMPANY_TAX_ID)
    await producer.send(FinalizeInvoice(invoice_id=invoice_id), account_id=account_id)
    finalized = await event_log.wait_for_type("invoice.finalized", invoice_id)
    assert finalized.data["invoice"]["number"] == f"INV-{datetime.now(UTC).year}-00001"
    assert finalized.data["invoice"]["issuer"]["tax_id"] == COMPANY_TAX_ID
    assert len(event_log.of_type("number.allocated", invoice_id)) == 1
