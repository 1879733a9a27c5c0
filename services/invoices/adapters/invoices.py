"""Invoices in the service's store: one document each, holding its state, its history and its outbox."""

from datetime import datetime
from typing import get_args

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key, Order
from services.invoices.domain.invoice import Invoice, Status


class Invoices(Repository[Invoice]):
    model = Invoice
    collection_name = "invoices"
    keys = (Key("status", "text"), Key("deleted", "boolean"), Key("account_id", "text"),
            Key("next_clock_at", "timestamp"))
    indexes = (Index(("status", "deleted")), Index(("next_clock_at",)))

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
