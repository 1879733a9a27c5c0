"""How an API key looks and how its creation is announced: `<key id>.<secret>`, the secret 256
random bits, announced by its SHA-256 digest only. Apart from the service side
(chassis/http/keys.py) so that the CLI makes a key without loading the HTTP framework.
"""

import hashlib
import secrets
from datetime import UTC, datetime

from contracts.messages.access import ApiKeyCreated


def new_api_key() -> tuple[str, str]:
    """A fresh key: its id, and the key itself, shown once to whoever asked for it."""
    key_id = f"key_{secrets.token_hex(8)}"
    return key_id, f"{key_id}.{secrets.token_urlsafe(32)}"


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def created(key: str, account_id: str, label: str = "") -> ApiKeyCreated:
    """The announcement of a new key: its digest, never the key."""
    return ApiKeyCreated(key_id=key.split(".", 1)[0], account_id=account_id, digest=digest_of(key), label=label,
                         created_at=datetime.now(UTC))
