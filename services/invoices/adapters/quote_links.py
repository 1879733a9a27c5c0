"""A quote becomes at most one invoice: the link's id is the quote, so a second link collides.

Creations are keyed by invoice, so two invoices for one quote may be created at once by
different consumers; the store's unique id and the link's version decide between them. The link
is written before the invoice. Claiming it again for the same invoice succeeds, so a creation
that stopped in between completes when its command is delivered again; a link that no longer
holds its quote (services.invoices.domain.quotes.holds_quote: its draft was deleted, or its
invoice never appeared) is taken over by the next invoice made from the quote.
"""

from datetime import datetime

from chassis.repository import account_key
from chassis.storage import CollectionSpec, DuplicateDocument, StaleDocument, Store
from services.invoices.adapters.invoices import Invoices
from services.invoices.domain.quotes import holds_quote

SPEC = CollectionSpec("quote_links")


class QuoteLinks:
    def __init__(self, store: Store, invoices: Invoices) -> None:
        self.documents = store.collection(SPEC)
        self.invoices = invoices

    async def claim(self, account_id: str, quote_id: str, invoice_id: str, now: datetime) -> bool:
        """True when the quote is now linked to this invoice: newly, again, or taken over from a
        link that no longer holds it. Each claim that writes is checked against the version it
        read, so of two at once one wins and the other finds the winner's link."""
        key = account_key(account_id, quote_id)
        link = {"id": key, "version": 0, "invoice_id": invoice_id, "claimed_at": now.isoformat()}
        try:
            await self.documents.insert(link)
            return True
        except DuplicateDocument:
            existing = await self.documents.get(key)
        if existing["invoice_id"] != invoice_id:
            claimed_at = existing.get("claimed_at")  # links written before claims were dated have none
            holder = await self.invoices.get(account_id, existing["invoice_id"])
            if holds_quote(quote_id, holder, datetime.fromisoformat(claimed_at) if claimed_at else None, now):
                return False
        # Claimed again by its own invoice (a creation delivered again), or taken over: dated anew,
        # so the lease counts from this claim.
        try:
            await self.documents.update({**link, "version": existing["version"] + 1}, existing["version"])
        except StaleDocument:
            return False
        return True
