"""API keys: how a service knows them, and how a caller is recognised by one (how a key looks
and is announced: chassis/http/key_format.py).

Services store only the SHA-256 of the whole key (its digest), found by the key id, and compare
digests in constant time, so neither a copy of a store nor the time an answer takes gives a key
away. A digest without slow hashing is enough: the secret is 256 random bits, not a password
anyone could guess from a list.

Keys reach a service as `api_key.created` and `api_key.revoked` events (contracts.messages.access),
which each reading service keeps in its own store.
"""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chassis.context import HandlerContext
from chassis.http.key_format import digest_of
from chassis.service import Service
from chassis.storage import CollectionSpec, Store
from contracts.messages.access import ApiKeyCreated, ApiKeyRevoked

SPEC = CollectionSpec("api_keys")


class ApiKeys:
    """The keys a service knows, one document each: `{id: key id, account_id, digest, revoked}`."""

    def __init__(self, store: Store) -> None:
        self.documents = store.collection(SPEC)

    async def add(self, event: ApiKeyCreated) -> None:
        # A key id once known is never taken again: not by a repeated announcement, and not
        # after its revocation (which may even come first, once compaction dropped the creation).
        await self.documents.insert_new([{"id": event.key_id, "version": 1, "account_id": event.account_id,
                                          "digest": event.digest, "revoked": False}])

    async def revoke(self, event: ApiKeyRevoked) -> None:
        stored = await self.documents.get(event.key_id)
        if stored is None:
            await self.documents.insert_new([{"id": event.key_id, "version": 1, "account_id": event.account_id,
                                              "digest": None, "revoked": True}])
        elif stored["account_id"] == event.account_id and not stored["revoked"]:
            await self.documents.update({**stored, "version": stored["version"] + 1, "revoked": True},
                                        stored["version"])

    async def account_of(self, key: str) -> str | None:
        """The account a presented key belongs to, or None: unknown, revoked or wrong."""
        key_id = key.split(".", 1)[0]
        stored = await self.documents.get(key_id) if key_id.startswith("key_") else None
        if stored is None or stored["revoked"] or stored["digest"] is None:
            return None
        return stored["account_id"] if hmac.compare_digest(stored["digest"], digest_of(key)) else None


_bearer = HTTPBearer(auto_error=False, description="An API key of the account: `Authorization: Bearer <key>`")


def api_keys(service: Service) -> ApiKeys:
    """The service's keys, kept up to date from api_keys.events."""
    keys = ApiKeys(service.store)

    @service.consumer.handles(ApiKeyCreated)
    async def key_created(context: HandlerContext, event: ApiKeyCreated) -> None:
        await keys.add(event)

    @service.consumer.handles(ApiKeyRevoked)
    async def key_revoked(context: HandlerContext, event: ApiKeyRevoked) -> None:
        await keys.revoke(event)

    return keys


def caller(keys: ApiKeys):
    """The FastAPI dependency every route takes: the caller's account, or 401."""

    async def account(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
        if credentials is None:
            raise HTTPException(401, "Send an API key: Authorization: Bearer <key>",
                                headers={"WWW-Authenticate": "Bearer"})
        account_id = await keys.account_of(credentials.credentials)
        if account_id is None:
            raise HTTPException(401, "Unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
        return account_id

    return account

