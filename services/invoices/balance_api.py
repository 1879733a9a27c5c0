"""The read API's customer balances: what the account owes one of its customers per currency,
and every movement that made it so (docs/design.md, "Customer balance")."""

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from chassis.http.api import ReadApi
from contracts.messages.balances import BalanceMovement
from contracts.messages.base import Identifier
from contracts.money import Currency
from services.invoices.adapters.customer_balances import CustomerBalances
from services.invoices.domain.customer_balance import CustomerBalance


class CustomerBalanceView(BaseModel):
    customer_id: str
    currency: str
    balance: int = Field(description="Credit the customer's next invoices in this currency take first, minor units")
    refunds_owed: int = Field(description="Refunds its credit notes owe the customer, not yet recorded as paid out")
    refunds_owed_by_credit_note: dict[str, int]
    movements: list[BalanceMovement] = Field(description="Oldest first")


def shown_balance(balance: CustomerBalance) -> CustomerBalanceView:
    return CustomerBalanceView(customer_id=balance.customer_id, currency=balance.currency, balance=balance.amount,
                               refunds_owed=balance.refund_owed,
                               refunds_owed_by_credit_note={k: v for k, v in balance.refunds_owed.items() if v},
                               movements=balance.movements)


def routes(api: ReadApi, balances: CustomerBalances) -> None:
    @api.app.get("/v1/customer_balances", response_model=list[CustomerBalanceView], tags=["customer balances"])
    async def customer_balances(
        account: api.Account,
        customer: Annotated[Identifier | None, Query(description="Only this customer's (its id)")] = None,
        currency: Annotated[Currency | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 100,
    ) -> list[CustomerBalanceView]:
        """The account's customer balances, one per customer and currency they ever had one in, by
        customer and currency, each with its movements; a customer without any: an empty list."""
        return [shown_balance(balance) for balance in await balances.listed(account, customer, currency, limit)]
