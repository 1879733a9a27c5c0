"""Invoices already stored before a benchmark run, bulk-loaded through the invoices repository so
they are exactly what the service itself writes (same document, same keys, same indexes)."""

from datetime import UTC, datetime

from chassis.storage import open_store
from services.invoices.adapters.invoices import Invoices
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.invoice import Invoice
from tests.integration.factories import PAYEE_IBAN, create_invoice

CHUNK = 1000


def sample_invoice_document(invoice_id: str = "inv_stored_0", account_id: str = "acct_stored_0",
                            sequence: int = 1) -> dict:
    """A finalized invoice as the service stores it."""
    now = datetime.now(UTC)
    who = {"now": now, "actor": "user:bench", "message_id": f"bench-{invoice_id}"}
    account = AccountSettings(id=account_id, company_name="Stored Ltd", sender_email="billing@stored.example",
                              payee_iban=PAYEE_IBAN, default_days_until_due=14)
    invoice = Invoice.create(create_invoice(invoice_id), account_id, **who)
    invoice.request_finalization(account, f"{account_id}/INV-{{yyyy}}-{{seq:05}}", **who)
    invoice.finalize(f"INV-{now:%Y}-{sequence:07d}", **who)
    invoice.take_recorded()
    return invoice.model_dump(mode="json")


async def load_invoices(database_url: str, count: int, accounts: int = 1000) -> None:
    """`count` finalized invoices spread over `accounts` accounts, in chunks of one statement each."""
    store = open_store(database_url, "invoices")
    await store.open()
    try:
        invoices = Invoices(store)
        await store.prepare()
        template = sample_invoice_document()
        for start in range(0, count, CHUNK):
            chunk = []
            for position in range(start, min(start + CHUNK, count)):
                account = f"acct_stored_{position % accounts}"
                chunk.append({**template, "id": f"inv_stored_{position}", "version": 2, "account_id": account,
                              "number": f"INV-{position // accounts:07d}"})
            await invoices.documents.insert_new(chunk)
    finally:
        await store.close()
