"""Customer balances in the invoices service's store: one document each, under its balance key
(`<account>/<customer id>/<currency>`, which names its account), found by key or by customer."""

from chassis.repository import Repository
from chassis.storage import Condition, Index, Key, Order
from contracts.messages.balances import balance_key
from services.invoices.domain.customer_balance import CustomerBalance


class CustomerBalances(Repository[CustomerBalance]):
    model = CustomerBalance
    collection_name = "customer_balances"
    keys = (Key("account_id", "text"), Key("customer_id", "text"), Key("currency", "text"))
    indexes = (Index(("account_id", "customer_id", "currency")),)

    async def available(self, account_id: str, customer_id: str | None, currency: str) -> int:
        """What the customer's balance in this currency holds now (0 without a customer id)."""
        if customer_id is None:
            return 0
        found = await self.get(balance_key(account_id, customer_id, currency))
        return found.amount if found is not None else 0

    async def of_customer(self, account_id: str, customer_id: str) -> list[CustomerBalance]:
        """The customer's balances, one per currency, by currency."""
        return await self.find([Condition("account_id", "eq", account_id),
                                Condition("customer_id", "eq", customer_id)], order_by=[Order("currency")])
