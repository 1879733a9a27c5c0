"""The one writer of customer balances: the commands keyed by a balance (`customer_balance.*`),
each handled on the balance's partition. Like every handler: load through the unit of work, one
domain call, commit (docs/design.md, "Customer balance")."""

from chassis.context import HandlerContext
from chassis.service import Service
from chassis.tenancy import TenantGuard
from contracts.messages.balances import ApplyCustomerBalance, CreditCustomerBalance, RecordCustomerRefund
from services.invoices.adapters.customer_balances import CustomerBalances
from services.invoices.clock import Clock
from services.invoices.domain.customer_balance import CustomerBalance


class CustomerBalanceHandlers:
    def __init__(self, service: Service, balances: CustomerBalances, clock: Clock) -> None:
        self.balances = balances
        self.clock = clock
        self.consumer = service.consumer
        self.tenancy = TenantGuard(service.consumer.metrics)

    async def load(self, context: HandlerContext, key: str) -> CustomerBalance:
        """The balance the message changes, a new empty one for a customer that has none yet; its
        key names its account, which must be the message's."""
        self.tenancy.check_key(context, key, "customer balance")
        return (await context.uow.get(self.balances, key)
                or context.uow.add(self.balances, CustomerBalance.empty(key)))

    def who(self, context: HandlerContext) -> dict:
        return {"now": self.clock.now(context.account_id), "actor": context.envelope.actor}

    def register(self) -> None:
        handles = self.consumer.handles

        @handles(CreditCustomerBalance)
        async def credit(context: HandlerContext, command: CreditCustomerBalance) -> None:
            balance = await self.load(context, command.balance_key)
            if balance.credit(command, **self.who(context)):
                await context.uow.commit()

        @handles(ApplyCustomerBalance)
        async def apply(context: HandlerContext, command: ApplyCustomerBalance) -> None:
            balance = await self.load(context, command.balance_key)
            balance.apply_to_invoice(command, **self.who(context))
            await context.uow.commit()

        @handles(RecordCustomerRefund)
        async def record_refund(context: HandlerContext, command: RecordCustomerRefund) -> None:
            balance = await self.load(context, command.balance_key)
            balance.record_refund(command, **self.who(context))
            await context.uow.commit()
