"""api_keys.events: the API keys that let an account read its data over HTTP.

The `invoicing keys` command announces them; every service that serves reads keeps its own copy
of the hashes, so none depends on another's database to authenticate a caller. The secret part
of a key never travels: only its SHA-256 digest does. The topic is compacted by key id, so a
service that starts later still learns every key, and a revocation outlives the creation it
supersedes.
"""

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from contracts import topics
from contracts.messages.base import Event, Identifier, message_type
from contracts.messages.common import Text

KeyDigest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


@message_type("api_key.created", topic=topics.API_KEYS_EVENTS, key="key_id")
class ApiKeyCreated(Event):
    key_id: Identifier
    account_id: Identifier
    digest: KeyDigest = Field(description="SHA-256 of the key's secret, hex; the secret itself is never published")
    label: Text = ""
    created_at: datetime


@message_type("api_key.revoked", topic=topics.API_KEYS_EVENTS, key="key_id")
class ApiKeyRevoked(Event):
    key_id: Identifier
    account_id: Identifier
    revoked_at: datetime
