"""The secret in a hosted invoice page's address: 256 random bits, URL-safe. Whoever holds the
address sees the invoice, so it is as unguessable as a session key, and rotating it revokes it."""

import secrets


def new_hosted_token() -> str:
    return secrets.token_urlsafe(32)
