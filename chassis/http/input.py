"""The one check every request to a read API passes before any route sees it (ServiceApp applies
it): its path and every query parameter are text a store can hold and a person could have meant.

Refused with 422, naming the parameter: bytes that are not UTF-8 (lone surrogates cannot be
written in UTF-8, so they are refused as such), control characters (NUL, line breaks, tab, DEL
and the C1 range: no path segment or filter value of this API holds one, and PostgreSQL refuses
NUL in text), and values longer than MAX_VALUE_LENGTH characters (no field of the contracts is
longer, so a longer value can only select nothing).
"""

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

MAX_VALUE_LENGTH = 1000
# Unicode's control characters (category Cc): C0, DEL and C1.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


class InvalidInput(ValueError):
    def __init__(self, location: list[str], problem: str) -> None:
        subject = {("path",): "The path", ("query",): "A query parameter's name"}.get(
            tuple(location), f"The query parameter {location[-1]!r}")
        super().__init__(f"{subject} {problem}.")
        self.location = location


def check_text(location: list[str], raw: bytes) -> str:
    """The text of a percent-decoded value, or InvalidInput saying what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(location, "is not UTF-8 text") from None
    if len(text) > MAX_VALUE_LENGTH:
        raise InvalidInput(location, f"is longer than {MAX_VALUE_LENGTH} characters")
    if control := _CONTROL.search(text):
        raise InvalidInput(location, f"holds the control character U+{ord(control.group()):04X}")
    return text


def check_request(scope: dict[str, Any]) -> None:
    """Every path segment and query parameter (name and value) of the request, or InvalidInput."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    for segment in raw_path.split(b"?", 1)[0].split(b"/"):
        check_text(["path"], unquote_to_bytes(segment))
    query = scope.get("query_string", b"").decode("latin-1")
    # latin-1 keeps every byte as one character, so parse_qsl sees the bytes the client sent.
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="latin-1"):
        parameter = check_text(["query"], name.encode("latin-1"))
        check_text(["query", parameter], value.encode("latin-1"))


class InputGuard:
    """An ASGI app that answers 422 for a request check_request refuses, in FastAPI's error shape,
    and hands every other request to `app`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "http":
            try:
                check_request(scope)
            except InvalidInput as invalid:
                body = json.dumps({"detail": [{"type": "invalid_characters", "loc": invalid.location,
                                               "msg": str(invalid)}]}).encode()
                await send({"type": "http.response.start", "status": 422,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
