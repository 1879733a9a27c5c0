"""Bank transactions in the service's store, one document per account and bank transaction id.

A waiting transaction is found by the names an invoice may be named by (a multikey index), so an
invoice that becomes known finds the transactions waiting for it without reading any other.
"""

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key
from services.payments.domain.transactions import BankTransaction, invoice_names


class TransactionBook(Repository[BankTransaction]):
    model = BankTransaction
    collection_name = "transactions"
    keys = (Key("waiting_for", "text_list"), Key("changed_by", "text_list", path="handled"))
    indexes = (Index(("waiting_for",)), Index(("changed_by",)))

    async def waiting_for(self, account_id: str, names: frozenset[str]) -> list[BankTransaction]:
        """The account's transactions waiting for an invoice by one of `names`."""
        return await self.find([Condition("waiting_for", "contains_any", invoice_names(account_id, names))])

    async def naming(self, account_id: str, names: frozenset[str], message_id: str) -> list[BankTransaction]:
        """The account's transactions waiting for an invoice by one of `names`, and those that
        `message_id` changed already (a redelivery publishes again what they announced), by id."""
        found = {transaction.id: transaction for transaction in await self.waiting_for(account_id, names)}
        found |= {transaction.id: transaction
                  for transaction in await self.find([Condition("changed_by", "contains_any", [message_id])])}
        return [found[transaction_id] for transaction_id in sorted(found)]
