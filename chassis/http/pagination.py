"""Cursor pagination over keyset positions: a page ends where the next one starts, by a key
that sorts uniquely (see services' sort keys), never by an offset the store would have to skip."""

import base64
import binascii
from typing import Generic, TypeVar

from fastapi import HTTPException
from pydantic import BaseModel

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    data: list[T]
    has_more: bool
    next_cursor: str | None = None


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(position.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        position = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        position = ""
    if not position:
        raise HTTPException(400, "The cursor is not one this API gave out.")
    return position


def page_of(items: list[T], limit: int, position_of) -> Page[T]:
    """A page from `limit + 1` fetched items: the extra one only says that more follow."""
    more = len(items) > limit
    items = items[:limit]
    return Page(data=items, has_more=more, next_cursor=encode_cursor(position_of(items[-1])) if more else None)
