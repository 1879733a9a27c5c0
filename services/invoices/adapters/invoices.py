"""Invoices in the service's store: one document each, holding its state, its history and its outbox."""

from typing import get_args

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key
from services.invoices.domain.invoice import Invoice, Status


class Invoices(Repository[Invoice]):
    model = Invoice
    collection_name = "invoices"
    keys = (Key("status", "text"), Key("deleted", "boolean"))
    indexes = (Index(("status", "deleted")),)

    async def count_by_status(self) -> dict[str, int]:
        """Invoices that are not deleted, by status: one indexed count each."""
        return {
            status: await self.documents.count([Condition("status", "eq", status), Condition("deleted", "eq", False)])
            for status in get_args(Status)
        }
