"""Quotes on the real stack, once: an invoice made from a quote invoices it, deleting its draft
releases it, and a new invoice for it is accepted (the rules in full: tests/unit/invoices/test_quotes.py)."""

import uuid

from contracts.messages.invoices import DeleteInvoice
from tests.integration.factories import configure_account, create_invoice


async def test_a_quote_is_invoiced_released_with_its_draft_and_invoiced_again(services, producer, event_log,
                                                                               account_id):
    await producer.send(configure_account(account_id), account_id=account_id)
    quote_id = f"quote_{uuid.uuid4().hex[:12]}"
    first, second, third = (f"inv_{uuid.uuid4().hex[:16]}" for _ in range(3))

    await producer.send(create_invoice(first, quote_id=quote_id), account_id=account_id)
    created = await event_log.wait_for_type("invoice.created", first)
    assert created.data["invoice"]["quote_id"] == quote_id
    assert (await event_log.wait_for_type("quote.invoiced", quote_id)).data["invoice_id"] == first
    await producer.send(create_invoice(second, quote_id=quote_id), account_id=account_id)
    assert (await event_log.wait_for_type("invoice.command_rejected", second)).data["reason"] == "quote_already_invoiced"

    await producer.send(DeleteInvoice(invoice_id=first, reason="wrong customer"), account_id=account_id)
    released = await event_log.wait_for_type("quote.released", quote_id)
    assert (released.data["invoice_id"], released.data["reason"]) == (first, "wrong customer")

    await producer.send(create_invoice(third, quote_id=quote_id), account_id=account_id)
    await event_log.wait_for_type("invoice.created", third)
    await event_log.wait_for(lambda r: r.type == "quote.invoiced" and r.data["invoice_id"] == third)
