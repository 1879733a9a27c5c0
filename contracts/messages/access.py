"""api_keys.events and access.events: who may read an account's data, and who may act for it.

api_keys.events: the API keys that let an account read its data over HTTP. The `invoicing keys`
command announces them; every service that serves reads keeps its own copy of the hashes, so none
depends on another's database to authenticate a caller. The secret part of a key never travels:
only its SHA-256 digest does. The topic is compacted by key id, so a service that starts later
still learns every key, and a revocation outlives the creation it supersedes.

access.events: which accounts each integrator may send commands for (`invoicing integrators
grant` and `revoke`, by an operator). An integrator writes to topics of its own
(`<topic>.from.<integrator>`, contracts.topics), so a consumer knows a record's integrator by its
topic, and acts on it only for the accounts granted to that integrator. Compacted by
`<integrator>/<account>`: the latest word on each grant is kept for good.
"""

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from contracts import topics
from contracts.messages.base import Event, Identifier, message_type
from contracts.messages.bounds import Moment, Name, Text

IntegratorName = Annotated[str, StringConstraints(pattern=f"^{topics.INTEGRATOR_NAME}$")]

KeyDigest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


@message_type("api_key.created", topic=topics.API_KEYS_EVENTS, key="key_id")
class ApiKeyCreated(Event):
    key_id: Identifier
    account_id: Identifier
    digest: KeyDigest = Field(description="SHA-256 of the key's secret, hex; the secret itself is never published")
    label: Text = ""
    created_at: Moment


@message_type("api_key.revoked", topic=topics.API_KEYS_EVENTS, key="key_id")
class ApiKeyRevoked(Event):
    key_id: Identifier
    account_id: Identifier
    revoked_at: Moment


def grant_key(integrator: str, account_id: str) -> str:
    """The record key of an integrator's grant of one account on access.events."""
    return f"{integrator}/{account_id}"


class AccessEvent(Event):
    grant_key: Name = Field(description="`<integrator>/<account_id>`: the Kafka key (the topic keeps the latest "
                                       "record of each grant)")
    integrator: IntegratorName = Field(description="The integrator's name: it writes `<topic>.from.<integrator>`")
    account_id: Identifier

    @model_validator(mode="after")
    def _key_names_the_grant(self):
        if self.grant_key != grant_key(self.integrator, self.account_id):
            raise ValueError(f"grant_key must be {grant_key(self.integrator, self.account_id)!r}")
        return self


@message_type("access.granted", topic=topics.ACCESS_EVENTS, key="grant_key")
class AccessGranted(AccessEvent):
    """The integrator may send commands for the account from now on."""

    granted_at: Moment
    granted_by: Text = Field(description="The operator who granted it")


@message_type("access.revoked", topic=topics.ACCESS_EVENTS, key="grant_key")
class AccessRevoked(AccessEvent):
    """The integrator's commands for the account have no effect from now on (they are answered
    `account_not_allowed`)."""

    revoked_at: Moment
    revoked_by: Text = Field(description="The operator who revoked it")
