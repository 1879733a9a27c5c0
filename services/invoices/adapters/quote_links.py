"""A quote becomes at most one invoice: the link's id is the quote, so a second link collides.

Creations are keyed by invoice, so two invoices for one quote may be created at once by
different consumers; the store's unique id decides between them. The link is written before
the invoice, and claiming it again for the same invoice succeeds, so a creation that stopped
in between completes when its command is delivered again.
"""

from chassis.storage import CollectionSpec, DuplicateDocument, Store

SPEC = CollectionSpec("quote_links")


class QuoteLinks:
    def __init__(self, store: Store) -> None:
        self.documents = store.collection(SPEC)

    async def claim(self, account_id: str, quote_id: str, invoice_id: str) -> bool:
        """True when the quote is now (or already was) linked to this invoice."""
        key = f"{account_id}/{quote_id}"
        try:
            await self.documents.insert({"id": key, "version": 0, "invoice_id": invoice_id})
            return True
        except DuplicateDocument:
            existing = await self.documents.get(key)
            return existing is not None and existing["invoice_id"] == invoice_id
