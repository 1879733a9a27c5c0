"""Bank transactions in MongoDB, one document per account and bank transaction id.

Banks issue the ids, so two tenants can receive the same one: the document id is scoped by
account, and one tenant's transaction is never taken for a duplicate of another's.

The document records what its receipt decided (matched automatically, or unmatched and why)
and which invoice it currently pays, each change written together with the events it causes
(see chassis.outbox). Every change also records the id of the message that made it,
so a redelivered message recognises its own work and answers the same way again.

A transaction whose text named no invoice payments knew keeps the names its text may name an
invoice by, indexed with the account, so an invoice that becomes known finds the transactions
waiting for it without reading any other.
"""

from collections.abc import Collection
from dataclasses import dataclass

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from chassis.messaging import Outgoing
from chassis.outbox import OUTBOX_FIELD, clear_outbox, outbox_document, outbox_entries
from services.payments.domain.model import BankTransaction, PaymentMatch

_STATE_FIELDS = ("received_in", "unmatched_reason", "invoice_id", "match", "matched_in", "names", "rematched_in")


class ConcurrentModification(Exception):
    """The transaction changed since it was read; handling the message again sees the change."""


@dataclass(frozen=True)
class TransactionRecord:
    transaction: BankTransaction
    received_in: str
    unmatched_reason: str | None = None
    """Set when the receipt found no invoice: the transaction went to the unmatched queue. When it
    waited for an invoice that then refused it, why it stays there."""
    invoice_id: str | None = None
    match: PaymentMatch | None = None
    matched_in: str | None = None
    names: list[str] | None = None
    """What the remittance text may name an invoice by; set when the receipt found none it named."""
    rematched_in: str | None = None
    """The invoice event that ended the wait: the transaction was matched, or refused for good."""


class TransactionBook:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["transactions"]

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("account_id", ASCENDING), ("names", ASCENDING)], name="by_names")

    async def get(self, account_id: str, transaction_id: str) -> TransactionRecord | None:
        document = await self.collection.find_one({"_id": _key(account_id, transaction_id)}, projection={OUTBOX_FIELD: 0})
        return _record(document) if document is not None else None

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

    async def naming(self, account_id: str, names: Collection[str], message_id: str) -> list[TransactionRecord]:
        """The account's transactions waiting for an invoice by one of `names`, and those whose wait
        `message_id` ended already (a redelivery answers for them again), in a stable order."""
        cursor = self.collection.find(
            {
                "account_id": account_id,
                "names": {"$in": sorted(names)},
                "$or": [{"matched_in": None, "rematched_in": None}, {"rematched_in": message_id}],
            },
            projection={OUTBOX_FIELD: 0},
            sort=[("_id", ASCENDING)],
        )
        return [_record(document) async for document in cursor]

    async def stop_waiting(self, record: TransactionRecord, announce: list[Outgoing]) -> None:
        """Store how the wait of a transaction `record.rematched_in` ended, with its events."""
        result = await self.collection.update_one(
            {"_id": _key(record.transaction.account_id, record.transaction.transaction_id),
             "matched_in": None, "rematched_in": None},
            {"$set": {**{field: getattr(record, field) for field in _STATE_FIELDS}, **outbox_entries(announce)}},
        )
        if result.matched_count != 1:
            raise ConcurrentModification(record.transaction.transaction_id)

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


def _record(document: dict) -> TransactionRecord:
    state = {field: document.pop(field, None) for field in _STATE_FIELDS}
    return TransactionRecord(BankTransaction.model_validate(document), **state)


def _key(account_id: str, transaction_id: str) -> str:
    return f"{account_id}/{transaction_id}"
