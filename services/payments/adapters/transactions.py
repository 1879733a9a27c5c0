"""Bank transactions in the service's store, one document per account and bank transaction id.

A waiting transaction is found by the names an invoice may be named by (a multikey index), so an
invoice that becomes known finds the transactions waiting for it without reading any other.
"""

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key, Order
from services.payments.domain.transactions import BankTransaction, invoice_names


class TransactionBook(Repository[BankTransaction]):
    model = BankTransaction
    collection_name = "transactions"
    keys = (Key("waiting_for", "text_list"), Key("changed_by", "text_list", path="handled"),
            Key("account_id", "text"), Key("queue_position", "text"))
    indexes = (Index(("waiting_for",)), Index(("changed_by",)), Index(("account_id", "queue_position")))

    def document(self, transaction: BankTransaction) -> dict:
        """With its place in the account's unmatched queue while it is in it."""
        return {**transaction.model_dump(mode="json"),
                "queue_position": queue_position(transaction) if transaction.unmatched_reason is not None else None}

    async def unmatched(self, account_id: str, limit: int, after: str = "") -> list[BankTransaction]:
        """The account's unmatched queue, oldest booking first, after the position `after`."""
        where = [Condition("account_id", "eq", account_id), Condition("queue_position", "gt", after)]
        return await self.find(where, order_by=[Order("queue_position")], limit=limit)

    async def waiting_for(self, account_id: str, names: frozenset[str]) -> list[BankTransaction]:
        """The account's transactions waiting for an invoice by one of `names`."""
        return await self.find([Condition("waiting_for", "contains_any", invoice_names(account_id, names))])

    async def naming(self, account_id: str, names: frozenset[str], message_id: str) -> list[BankTransaction]:
        """The account's transactions waiting for an invoice by one of `names`, and those that
        `message_id` changed already (a redelivery publishes again what they announced), by id."""
        found = {transaction.id: transaction for transaction in await self.waiting_for(account_id, names)}
        # Message ids come from their producers: only the account's own transactions count.
        changed = [Condition("changed_by", "contains_any", [message_id]), Condition("account_id", "eq", account_id)]
        found |= {transaction.id: transaction for transaction in await self.find(changed)}
        return [found[transaction_id] for transaction_id in sorted(found)]


def queue_position(transaction: BankTransaction) -> str:
    """By booking day, then id: unique, so a page of the queue continues after the last one shown."""
    return f"{transaction.booked_on.isoformat()} {transaction.transaction_id}"
