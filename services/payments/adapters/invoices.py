"""payments' read model of invoices, fed by the snapshots on invoices.events.

One small document per invoice, holding only what matching and payment rules need; drafts too,
so a payment naming one is refused for being a draft, not for an unknown invoice. Snapshots can
arrive late or twice, so a write only lands when it carries a newer version than the one stored.
"""

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from services.payments.domain.matching import RemittanceReferences, number_token
from services.payments.domain.model import InvoiceView


class InvoiceReadModel:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["invoices"]

    async def ensure_indexes(self) -> None:
        for field in ("payment_reference", "number_token", "payee_iban"):
            await self.collection.create_index([("account_id", ASCENDING), (field, ASCENDING)], name=f"by_{field}")

    async def remember(self, invoice: InvoiceView) -> bool:
        """Store the snapshot unless a newer one is stored already; False when it was stale."""
        token = number_token(invoice.number) if invoice.number is not None else None
        try:
            await self.collection.update_one(
                {"_id": invoice.id, "version": {"$lt": invoice.version}},
                {"$set": {**invoice.model_dump(exclude={"id"}), "number_token": token}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # the filter missed an existing invoice: its stored version is as new or newer
        return True

    async def forget(self, invoice_id: str) -> None:
        await self.collection.delete_one({"_id": invoice_id})

    async def get(self, invoice_id: str) -> InvoiceView | None:
        document = await self.collection.find_one({"_id": invoice_id})
        return _view(document) if document else None

    async def named_in(self, account_id: str, references: RemittanceReferences) -> list[InvoiceView]:
        """The account's invoices whose RF reference or number the remittance text carries."""
        cursor = self.collection.find(
            {
                "account_id": account_id,
                "$or": [
                    {"payment_reference": {"$in": sorted(references.creditor_references)}},
                    {"number_token": {"$in": sorted(references.words)}},
                ],
            }
        )
        return [_view(document) async for document in cursor]

    async def payee_ibans(self, account_id: str) -> set[str]:
        ibans = await self.collection.distinct("payee_iban", {"account_id": account_id, "payee_iban": {"$ne": None}})
        return set(ibans)


def _view(document: dict) -> InvoiceView:
    return InvoiceView.model_validate({**document, "id": document["_id"]})
