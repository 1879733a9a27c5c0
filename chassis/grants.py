"""Tenants bound to credentials: which accounts each integrator may act for.

Kafka authenticates a connection but puts nothing of it on the records it writes, so a consumer
cannot ask a record who produced it. The topic tells instead: the broker lets only integrator X
write `<topic>.from.X`, and only the platform's own principals (its services and the operators)
write the platform's topics (contracts.topics, whose table the broker's ACLs are made from). The
consumer reads a record's `Origin` from its topic, and `AccessGrants.allows` decides.

Operators grant and revoke accounts (`invoicing integrators grant|revoke`), announced as
`access.granted` / `access.revoked` on the compacted access.events. A service that reads
integrators' topics opts in with `integrator_grants(service)`: it keeps its own copy of the
grants in its store and in memory (grants are few), loaded before it consumes and kept current by
those events, which the consumer applies before anything else of the batch they arrive in.
"""

from typing import TYPE_CHECKING

from chassis.context import HandlerContext
from chassis.storage import CollectionSpec, Store
from contracts.messages.access import AccessGranted, AccessRevoked
from contracts.topics import Origin

if TYPE_CHECKING:
    from chassis.service import Service

SPEC = CollectionSpec("access_grants")


class AccessGrants:
    """The grants a service knows, one document per integrator and account:
    `{id: "<integrator>/<account>", integrator, account_id, granted, at}`.

    Without a store (a service that did not opt in) it knows no grant: records of integrators'
    topics are then refused for every account."""

    def __init__(self, store: Store | None = None) -> None:
        self.documents = store.collection(SPEC) if store is not None else None
        self._accounts: dict[str, set[str]] = {}

    def allows(self, origin: Origin, account_id: str) -> bool:
        """Whether a message that arrived from `origin` may act for `account_id` (its envelope's
        `ce_accountid`). The rule, for every consumer of the platform:

        - a record of a platform topic (`origin.integrator` is None) was written by one of the
          platform's services or by the operators, who act for every account: allowed;
        - a record of an integrator's own topic is allowed only for an account granted to that
          integrator, and not once the grant is revoked.

        A message that is not allowed has no effect: a command is answered with a rejection
        `account_not_allowed`, anything else is dead-lettered with that reason (chassis.consumer).
        """
        return origin.integrator is None or account_id in self._accounts.get(origin.integrator, ())

    def granted(self) -> dict[str, set[str]]:
        """Integrator -> the accounts it may act for, as this service knows them now."""
        return {integrator: set(accounts) for integrator, accounts in self._accounts.items() if accounts}

    async def load(self) -> None:
        """Read the stored grants (before consuming starts)."""
        self._accounts = {}
        for document in await self.documents.find():
            self._remember(document["integrator"], document["account_id"], document["granted"])

    async def apply(self, event: AccessGranted | AccessRevoked) -> None:
        """Store the latest word on one grant, then act on it. The topic keeps one partition per
        grant, so its records arrive in the order the operators wrote them."""
        granted = isinstance(event, AccessGranted)
        document = {"id": event.grant_key, "integrator": event.integrator, "account_id": event.account_id,
                    "granted": granted, "at": (event.granted_at if granted else event.revoked_at).isoformat()}
        stored = await self.documents.get(event.grant_key)
        if stored is None:
            await self.documents.insert_new([{**document, "version": 1}])
        elif stored["granted"] != granted or stored["at"] != document["at"]:
            await self.documents.update({**document, "version": stored["version"] + 1}, stored["version"])
        self._remember(event.integrator, event.account_id, granted)

    def _remember(self, integrator: str, account_id: str, granted: bool) -> None:
        accounts = self._accounts.setdefault(integrator, set())
        if granted:
            accounts.add(account_id)
        else:
            accounts.discard(account_id)


def integrator_grants(service: "Service") -> AccessGrants:
    """Let the service act on integrators' commands, for the accounts granted to each: consume
    access.events into the service's store and check every record of an integrator's topic
    against it. A service that reads no integrator's topic needs none of this."""
    grants = AccessGrants(service.store)
    service.consumer.grants = grants

    @service.consumer.handles(AccessGranted, first=True)
    async def access_granted(context: HandlerContext, event: AccessGranted) -> None:
        await grants.apply(event)

    @service.consumer.handles(AccessRevoked, first=True)
    async def access_revoked(context: HandlerContext, event: AccessRevoked) -> None:
        await grants.apply(event)

    service.on_startup(grants.load)
    return grants
