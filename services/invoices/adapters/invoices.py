"""Invoices in the service's store: one document each, holding its state, its history, its outbox,
and what lists read of it (see listing.py)."""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import get_args

from chassis.repository import AccountRepository
from chassis.storage import Condition, Index, Key, Order
from services.invoices.adapters import listing
from services.invoices.adapters.listing import InvoiceFilter, SortField
from services.invoices.domain.invoice import Invoice, Status


def stored(invoice: Invoice) -> dict:
    """An invoice as the repository stores it: its state, and what lists read beside it."""
    return {**invoice.model_dump(mode="json"), **listing.listed(invoice)}


class Invoices(AccountRepository[Invoice]):
    """Keyed by (account, invoice id): each account's invoice ids are its own."""

    model = Invoice
    collection_name = "invoices"
    keys = (Key("status", "text"), Key("deleted", "boolean"), Key("account_id", "text"),
            Key("next_clock_at", "timestamp"), Key("invoice_id", "text", path="listing.id"), *listing.KEYS)
    indexes = (Index(("status", "deleted")), Index(("next_clock_at",)), Index(("invoice_id",)), *listing.INDEXES)

    def document(self, invoice: Invoice) -> dict:
        return stored(invoice)

    async def count_by_status(self) -> dict[str, int]:
        """Invoices that are not deleted, by status: one indexed count each."""
        return {
            status: await self.documents.count([Condition("status", "eq", status), Condition("deleted", "eq", False)])
            for status in get_args(Status)
        }

    async def clock_due(self, now: datetime, limit: int, account_id: str | None = None) -> list[Invoice]:
        """Invoices whose clock must run by `now`, earliest first, through the next_clock_at index."""
        where = [Condition("next_clock_at", "lte", now)]
        if account_id is not None:
            where.append(Condition("account_id", "eq", account_id))
        return await self.find(where, order_by=[Order("next_clock_at")], limit=limit)

    async def page(self, account_id: str, wanted: InvoiceFilter, sort: SortField, descending: bool, limit: int,
                   after: str | None = None) -> list[dict]:
        """Up to `limit` of the account's invoices in the sort's order, after the position `after`."""
        where = listing.conditions(account_id, wanted)
        if after is not None:
            where.append(listing.after(sort, descending, after))
        return await self.documents.find(where, order_by=[listing.order(sort, descending)], limit=limit)

    def export(self, account_id: str, wanted: InvoiceFilter, sort: SortField, descending: bool) -> AsyncIterator[dict]:
        """All of the account's invoices the filter selects, in order, as `{"listing": ...}` each."""
        return self.documents.stream(listing.conditions(account_id, wanted), [listing.order(sort, descending)],
                                     fields=["listing"])

    async def with_id(self, invoice_id: str) -> list[Invoice]:
        """Every account's invoice with this id (by index): for the public hosted page, whose
        address names the invoice and its token, not the account; the token tells them apart."""
        return await self.find([Condition("invoice_id", "eq", invoice_id)])

    async def credit_note_elsewhere(self, account_id: str, credit_note_id: str, invoice_id: str) -> bool:
        """Whether another of the account's invoices has a credit note of this id: credit note ids are
        the account's, like invoice ids (the invoice itself checks its own credit notes)."""
        found = await self.find([Condition("account_id", "eq", account_id),
                                 Condition("credit_note_ids", "contains_any", [credit_note_id])], limit=2)
        return any(invoice.id != invoice_id for invoice in found)

    async def credited(self, account_id: str, invoice_id: str | None = None) -> list[Invoice]:
        """The account's invoices with issued credit notes (by index), or the one named."""
        where = [Condition("account_id", "eq", account_id), Condition("credited", "eq", True)]
        if invoice_id is not None:
            where.append(Condition("invoice_id", "eq", invoice_id))
        return await self.find(where)

    async def with_credit_note(self, account_id: str, credit_note_id: str) -> Invoice | None:
        found = await self.find([Condition("account_id", "eq", account_id),
                                 Condition("credit_note_ids", "contains_any", [credit_note_id])], limit=1)
        return found[0] if found else None

    async def by_number(self, account_id: str, number: str) -> Invoice | None:
        found = await self.find(listing.conditions(account_id, InvoiceFilter(number=number)), limit=1)
        return found[0] if found else None
