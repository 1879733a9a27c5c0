"""Every handler checks the tenant: the envelope's account (`ce_accountid`), the account the
message's data names (an invoice snapshot's `account_id`, a series key, `account.configure`'s
`account_id`) and the account of the aggregate it changes must be one, or the message has no
effect.

Aggregates of ids a client chose are stored per account (chassis.repository.AccountRepository),
so the aggregate a message names is looked up in the envelope's account only: another account's
is simply not found, and answers as an unknown one. What remains to compare is the data's
account, which this module does.

A command that fails the check is answered with a rejection (the Refusal, as for any rule). An
event has no one to answer: it is not applied, logged by the consumer ("event not applied", with
the reason) and counted here in `invoicing_messages_dropped_total{type,reason}`.
"""

from chassis.context import HandlerContext
from chassis.metrics import MessagingMetrics
from contracts.refusals import Refusal


class TenantGuard:
    def __init__(self, metrics: MessagingMetrics | None) -> None:
        self.metrics = metrics

    def refused(self, context: HandlerContext, refusal: Refusal) -> Refusal:
        """The refusal to raise; an event's is counted as dropped first."""
        if context.data is not None and context.data.message_kind == "event" and self.metrics is not None:
            self.metrics.dropped.labels(context.envelope.type, refusal.reason).inc()
        return refusal

    def check(self, context: HandlerContext, account_id: str | None, what: str) -> None:
        """Raises (see `refused`) unless the account the data names as `what` is the envelope's."""
        if account_id is not None and account_id != context.account_id:
            raise self.refused(context, Refusal(
                "account_mismatch", f"The {what} names account {account_id!r}, not the message's account."))

    def check_key(self, context: HandlerContext, key: str, what: str) -> None:
        """Raises (see `refused`) unless `key` (a series key, `<account>/<rest>`) is of the envelope's account."""
        if not key.startswith(f"{context.account_id}/"):
            raise self.refused(context, Refusal("account_mismatch", f"The {what} belongs to another account."))
