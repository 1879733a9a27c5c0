"""Cursor pagination over keyset positions: a page ends where the next one starts, by a key
that sorts uniquely (see services' sort keys), never by an offset the store would have to skip.

A cursor is `<position>.<signature>`, both base64url: the signature is an HMAC-SHA256, keyed with
the deployment's cursor secret (CURSOR_SECRET or CURSOR_SECRET_FILE), of the account, the list
and its filters and sort (`scope`) and the position. So a cursor continues only the list it was
made for, for the account it was made for; any other text, a cursor of another filter, sort or
account, or one signed with another deployment's secret answers 400 before the store is asked.
"""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Generic, TypeVar

from fastapi import HTTPException
from pydantic import BaseModel

T = TypeVar("T")

REFUSED = "The cursor is not one this API gave out for this account, filter and sort: ask for the first page again."


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None = None


def _base64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unbase64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


class Cursors:
    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()

    def _signature(self, account: str, scope: str, position: bytes) -> bytes:
        signed = json.dumps([account, scope]).encode() + b"\n" + position
        return hmac.new(self.secret, signed, hashlib.sha256).digest()

    def cursor(self, account: str, scope: str, position: str) -> str:
        encoded = position.encode()
        return f"{_base64(encoded)}.{_base64(self._signature(account, scope, encoded))}"

    def position(self, cursor: str, account: str, scope: str) -> str:
        """The position a cursor of this account and scope continues after, or 400."""
        try:
            position, signature = (_unbase64(part) for part in cursor.split("."))
        except (ValueError, binascii.Error):
            raise HTTPException(400, REFUSED) from None
        if not hmac.compare_digest(signature, self._signature(account, scope, position)):
            raise HTTPException(400, REFUSED)
        return position.decode()

    def page_of(self, items: list[T], limit: int, position_of, account: str, scope: str) -> Page[T]:
        """A page from `limit + 1` fetched items: the extra one only says that more follow."""
        more = len(items) > limit
        items = items[:limit]
        next_cursor = self.cursor(account, scope, position_of(items[-1])) if more else None
        return Page(data=items, has_more=more, next_cursor=next_cursor)
