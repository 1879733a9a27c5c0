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

    async def listed(self, account_id: str, customer_id: str | None, currency: str | None,
                     limit: int) -> list[CustomerBalance]:
        """The account's balances (of one customer, in one currency, if named), by customer and
        currency, up to `limit`."""
        where = [Condition("account_id", "eq", account_id)]
        where += [Condition(key, "eq", value) for key, value in (("customer_id", customer_id),
                                                                  ("currency", currency)) if value is not None]
        return await self.find(where, order_by=[Order("customer_id"), Order("currency")], limit=limit)
