"""Invoices, account settings and quote links in MongoDB.

An invoice is one document: its state, its full history and its outbox. Saving checks the
version it was loaded at (optimistic concurrency), so two handlers racing on one invoice cannot
overwrite each other: the loser fails and the consumer runs it again on fresh state.
"""

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chassis.messaging import Outgoing
from chassis.outbox import OUTBOX_FIELD, clear_outbox, outbox_document, outbox_entries
from services.invoices.domain.account import AccountSettings
from services.invoices.domain.invoice import Invoice


class ConcurrentModification(Exception):
    pass


class InvoiceExists(Exception):
    pass


class InvoiceRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["invoices"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("account_id", ASCENDING), ("status", ASCENDING)], name="by_account_status")
        await self.collection.create_index([("account_id", ASCENDING), ("number", ASCENDING)], name="by_account_number")

    async def get(self, invoice_id: str) -> tuple[Invoice, list[Outgoing]] | None:
        """The invoice and the events still waiting in its outbox."""
        document = await self.collection.find_one({"_id": invoice_id})
        if document is None:
            return None
        pending = [Outgoing.from_document(entry) for entry in document.pop(OUTBOX_FIELD, {}).values()]
        document["id"] = document.pop("_id")
        return Invoice.model_validate(document), pending

    async def add(self, invoice: Invoice, announce: list[Outgoing]) -> None:
        try:
            await self.collection.insert_one({**_document(invoice), OUTBOX_FIELD: outbox_document(announce)})
        except DuplicateKeyError as error:
            raise InvoiceExists(invoice.id) from error

    async def save(self, invoice: Invoice, loaded_version: int, announce: list[Outgoing]) -> None:
        """Store the invoice unless someone else saved it since it was loaded at loaded_version."""
        result = await self.collection.update_one(
            {"_id": invoice.id, "version": loaded_version},
            {"$set": {**_document(invoice, with_id=False), **outbox_entries(announce)}},
        )
        if result.matched_count != 1:
            raise ConcurrentModification(invoice.id)

    async def published(self, invoice_id: str, messages: list[Outgoing]) -> None:
        await clear_outbox(self.collection, invoice_id, messages)

    async def count_by_status(self) -> dict[str, int]:
        pipeline = [{"$match": {"deleted": False}}, {"$group": {"_id": "$status", "count": {"$sum": 1}}}]
        return {row["_id"]: row["count"] async for row in await self.collection.aggregate(pipeline)}


class AccountRepository:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["accounts"]

    async def get(self, account_id: str) -> AccountSettings:
        document = await self.collection.find_one({"_id": account_id})
        if document is None:
            return AccountSettings(account_id=account_id)
        return AccountSettings.model_validate(document)

    async def save(self, settings: AccountSettings) -> None:
        document = settings.model_dump(mode="json")
        await self.collection.replace_one({"_id": settings.account_id}, {"_id": settings.account_id, **document}, upsert=True)


class QuoteLinks:
    """A quote becomes at most one invoice: the link's id is the quote, so a second one collides."""

    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["quote_links"]

    async def claim(self, account_id: str, quote_id: str, invoice_id: str) -> bool:
        """True when the quote is now (or already was) linked to this invoice."""
        key = f"{account_id}/{quote_id}"
        try:
            await self.collection.insert_one({"_id": key, "invoice_id": invoice_id})
            return True
        except DuplicateKeyError:
            existing = await self.collection.find_one({"_id": key})
            return existing is not None and existing["invoice_id"] == invoice_id


def _document(invoice: Invoice, *, with_id: bool = True) -> dict[str, Any]:
    # JSON mode: Decimal quantities and rates become strings (no Decimal128: FerretDB lacks it).
    document = invoice.model_dump(mode="json")
    invoice_id = document.pop("id")
    return {"_id": invoice_id, **document} if with_id else document
