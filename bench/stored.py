"""Invoices already stored before a benchmark run, bulk-loaded as the invoices repository stores
them (same document, listing, keys and indexes), varied the way lists are filtered: statuses,
customers, currencies, amounts, issue and due dates."""

import itertools
from datetime import UTC, datetime, timedelta

from chassis.storage import open_store
from contracts.messages.common import Customer, LineItem
from services.invoices.adapters.invoices import Invoices, stored
from services.invoices.adapters.listing import sort_positions
from services.invoices.domain import dunning
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.hosted_link import HostedLinks
from services.invoices.domain.invoice import Invoice
from tests.integration.factories import COMPANY_ADDRESS, COMPANY_TAX_ID, CUSTOMER_ADDRESS, PAYEE_IBAN, create_invoice

CHUNK = 1000
LINKS = HostedLinks(secret="bench-secret-of-the-stored-invoices-0123")
NOW = datetime.now(UTC)
ACCOUNT = AccountSettings(id="acct_stored", company_name="Stored Ltd", sender_email="billing@stored.example",
                          payee_iban=PAYEE_IBAN, default_days_until_due=14, company_address=COMPANY_ADDRESS,
                          company_tax_id=COMPANY_TAX_ID)
# One in 20 a draft, one in 10 void, a quarter paid, the rest open.
STATUSES = ["draft"] + ["void"] * 2 + ["paid"] * 5 + ["open"] * 12


def sample_invoice(variant: int = 0, invoice_id: str = "inv_stored_0", account_id: str = "acct_stored_0") -> Invoice:
    """A stored invoice of one of the variants, as the service leaves it."""
    who = {"now": NOW, "actor": "user:bench", "message_id": f"bench-{invoice_id}"}
    status = STATUSES[variant % len(STATUSES)]
    command = create_invoice(
        invoice_id, currency="USD" if variant % 7 == 0 else "EUR",
        customer=Customer(name=f"Customer {variant % 25}", email=[f"ap{variant % 25}@customer.example"],
                          address=CUSTOMER_ADDRESS),
        lines=[LineItem(description="Consulting", quantity=1 + variant % 9, unit_amount=1000 + 137 * variant,
                        tax_rate=19)],
    )
    invoice = Invoice.create(command, account_id, **who)
    if status != "draft":
        invoice.request_finalization(ACCOUNT, f"{account_id}/INV-{{yyyy}}-{{seq:05}}", **who)
        invoice.finalize(f"INV-{NOW:%Y}-{variant:07d}", links=LINKS, **who)
    if status == "void":
        invoice.void(reason="issued twice", **who)
    if status == "paid":
        invoice.mark_paid(**who)
    invoice.take_recorded()
    return invoice


def sample_invoice_document() -> dict:
    """A finalized invoice as the service stores it."""
    return stored(sample_invoice(variant=STATUSES.index("open")))


def _varied(template: dict, position: int, invoice_id: str, account_id: str, sequence: int) -> dict:
    """The template invoice as the `sequence`th of its account: its own id, number and dates, and
    as its clock leaves it (an open invoice whose due date passed is announced past due)."""
    issued = NOW - timedelta(days=position % 400, minutes=position % 1440)
    finalized = template["status"] != "draft"
    number = f"INV-{sequence:07d}" if finalized else None
    due = (issued + timedelta(days=14 + position % 30)).date() if finalized else None
    past_due = template["status"] == "open" and due < NOW.date()
    waits_for_clock = template["status"] == "open" and not past_due
    listing = template["listing"]
    return {
        **template, "id": Invoices.key(account_id, invoice_id), "account_id": account_id, "number": number,
        "due_date": due.isoformat() if due else None, "finalized_at": issued.isoformat() if finalized else None,
        "past_due_on": due.isoformat() if past_due else None,
        "next_clock_at": dunning.past_due_from(due).isoformat() if waits_for_clock else None,
        "listing": {**listing, "id": invoice_id, "number": number, "due_date": due.isoformat() if due else None,
                    "issued_on": issued.date().isoformat() if finalized else None, "past_due": past_due},
        "positions": sort_positions(invoice_id, due_date=due, issued_on=issued.date() if finalized else None,
                                    total=listing["total"], number=number),
    }


async def load_invoices(database_url: str, count: int, accounts: int = 1000, largest: int = 0) -> None:
    """`count` invoices over `accounts` accounts: the first `largest` of them all in acct_stored_0,
    the rest spread over the others; in chunks of one statement each."""
    store = open_store(database_url, "invoices")
    await store.open()
    try:
        invoices = Invoices(store)
        await store.prepare()
        templates = [stored(sample_invoice(variant)) for variant in range(40)]
        sequences = itertools.count(1)
        chunk, per_account = [], {}
        for position in range(count):
            if position < largest or accounts == 1:
                account = "acct_stored_0"
            else:
                account = f"acct_stored_{1 + (position - largest) % (accounts - 1)}"
            sequence = per_account[account] = per_account.get(account, 0) + 1
            chunk.append(_varied(templates[position % len(templates)], position, f"inv_stored_{next(sequences)}",
                                 account, sequence))
            if len(chunk) == CHUNK:
                await invoices.documents.insert_new(chunk)
                chunk = []
        await invoices.documents.insert_new(chunk)
    finally:
        await store.close()
