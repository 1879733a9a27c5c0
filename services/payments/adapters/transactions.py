"""Bank transactions in MongoDB, one document per account and bank transaction id.

Banks issue the ids, so two tenants can receive the same one: the document id is scoped by
account, and one tenant's transaction is never taken for a duplicate of another's.

The document records what its receipt decided (matched automatically, or unmatched and why)
and which invoice it currently pays, each change written together with the events it causes
(see contracts.runtime.outbox). Every change also records the id of the message that made it,
so a redelivered message recognises its own work and answers the same way again.
"""

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase

from contracts.runtime.messaging import Outgoing
from contracts.runtime.outbox import OUTBOX_FIELD, clear_outbox, outbox_document, outbox_entries
from services.payments.domain.model import BankTransaction, PaymentMatch

_STATE_FIELDS = ("received_in", "unmatched_reason", "invoice_id", "match", "matched_in")


@dataclass(frozen=True)
class TransactionRecord:
    transaction: BankTransaction
    received_in: str
    unmatched_reason: str | None = None
    """Set when the receipt found no invoice: the transaction went to the unmatched queue."""
    invoice_id: str | None = None
    match: PaymentMatch | None = None
    matched_in: str | None = None


class TransactionBook:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["transactions"]

    async def get(self, account_id: str, transaction_id: str) -> TransactionRecord | None:
        document = await self.collection.find_one({"_id": _key(account_id, transaction_id)}, projection={OUTBOX_FIELD: 0})
        if document is None:
            return None
        state = {field: document.pop(field, None) for field in _STATE_FIELDS}
        return TransactionRecord(BankTransaction.model_validate(document), **state)

    async def add(self, record: TransactionRecord, announce: list[Outgoing]) -> None:
        """Raises DuplicateKeyError when the transaction id is taken."""
        await self.collection.insert_one(
            {
                "_id": _key(record.transaction.account_id, record.transaction.transaction_id),
                **record.transaction.model_dump(mode="json"),
                **{field: getattr(record, field) for field in _STATE_FIELDS},
                OUTBOX_FIELD: outbox_document(announce),
            }
        )

    async def attribute(
        self, record: TransactionRecord, invoice_id: str, match: PaymentMatch, message_id: str, announce: list[Outgoing]
    ) -> bool:
        """Let the transaction pay `invoice_id`; False when someone else changed it since `record` was read."""
        result = await self.collection.update_one(
            {"_id": _key(record.transaction.account_id, record.transaction.transaction_id), "matched_in": record.matched_in},
            {"$set": {"invoice_id": invoice_id, "match": match, "matched_in": message_id, **outbox_entries(announce)}},
        )
        return result.modified_count == 1

    async def published(self, account_id: str, transaction_id: str, messages: list[Outgoing]) -> None:
        await clear_outbox(self.collection, _key(account_id, transaction_id), messages)


def _key(account_id: str, transaction_id: str) -> str:
    return f"{account_id}/{transaction_id}"
