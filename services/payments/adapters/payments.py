"""Payments in MongoDB, one document per account and payment id, with the events each change causes.

Ids are scoped by account: tenants choose manual payment ids and banks choose the transaction ids
automatic payments are named after, so ids of different tenants may coincide.

Removal marks a payment instead of deleting it: payment ids are never reused for another
payment, and the record keeps what was removed and why.
"""

from dataclasses import dataclass

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from chassis.messaging import Outgoing
from chassis.outbox import OUTBOX_FIELD, clear_outbox, outbox_document, outbox_entries
from services.payments.domain.model import Payment


@dataclass(frozen=True)
class PaymentRecord:
    payment: Payment
    recorded_in: str
    removed_in: str | None = None

    @property
    def counts(self) -> bool:
        return self.removed_in is None


class PaymentBook:
    def __init__(self, db: AsyncDatabase) -> None:
        self.collection = db["payments"]

    async def get(self, account_id: str, payment_id: str) -> PaymentRecord | None:
        document = await self.collection.find_one({"_id": _key(account_id, payment_id)}, projection={OUTBOX_FIELD: 0})
        if document is None:
            return None
        return PaymentRecord(
            Payment.model_validate(document), recorded_in=document["recorded_in"], removed_in=document.get("removed_in")
        )

    async def add(self, payment: Payment, message_id: str, announce: list[Outgoing]) -> None:
        """Raises DuplicateKeyError when the payment id is taken."""
        await self.collection.insert_one(
            {"_id": _key(payment.account_id, payment.payment_id), **_fields(payment, message_id),
             OUTBOX_FIELD: outbox_document(announce)}
        )

    async def put(self, payment: Payment, message_id: str) -> None:
        """Record a bank transaction's payment; its events travel in the transaction's outbox.

        A transaction applied again after its payment was removed overwrites that payment, but a
        redelivered message leaves what it wrote before alone, even if it was removed since.
        """
        try:
            await self.collection.update_one(
                {"_id": _key(payment.account_id, payment.payment_id), "recorded_in": {"$ne": message_id}},
                {"$set": _fields(payment, message_id)},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # the filter missed: this message recorded the payment already

    async def remove(self, payment: Payment, reason: str, message_id: str, announce: list[Outgoing]) -> bool:
        """False when the payment was removed already."""
        result = await self.collection.update_one(
            {"_id": _key(payment.account_id, payment.payment_id), "removed_in": None},
            {"$set": {"removed_in": message_id, "removal_reason": reason, **outbox_entries(announce)}},
        )
        return result.modified_count == 1

    async def published(self, account_id: str, payment_id: str, messages: list[Outgoing]) -> None:
        await clear_outbox(self.collection, _key(account_id, payment_id), messages)


def _key(account_id: str, payment_id: str) -> str:
    return f"{account_id}/{payment_id}"


def _fields(payment: Payment, message_id: str) -> dict:
    return {**payment.model_dump(mode="json"), "recorded_in": message_id, "removed_in": None}
