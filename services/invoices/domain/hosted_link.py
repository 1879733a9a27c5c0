"""The secret in a hosted invoice page's address: 256 random bits, URL-safe. Whoever holds the
address sees the invoice, so it is as unguessable as a session key, and rotating it revokes it.

The invoices service keeps only the token's SHA-256 digest: the token itself is handed out once,
in the event that gives it to the account's owner (invoice.finalized, invoice.hosted_link_rotated),
and a page request is checked by comparing digests in constant time. A copy of the store (a
backup, a replica) opens no page.
"""

import hashlib
import hmac
import secrets


def new_hosted_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(digest: str | None, token: str) -> bool:
    return digest is not None and hmac.compare_digest(digest, token_digest(token))
