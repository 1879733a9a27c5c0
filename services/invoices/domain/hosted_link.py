"""The secret in a hosted invoice page's address, and the address itself.

token = base64url(HMAC-SHA256(HOSTED_LINK_SECRET, "<account id>/<invoice id>/<nonce>")), 43
characters: the invoices service can make it again whenever it needs the link (a mail, the read
API), and no one without the deployment's secret can. The invoice keeps only its random nonce, so
a copy of the store (a backup, a replica) opens no page; a new nonce (rotation) makes a new token
and the old address stops working at once. A page request is checked by making the token again
and comparing in constant time. Pure: no I/O.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

# The deployment's secret is a key, not a password: deploy/ makes 64 hex digits.
MIN_SECRET_LENGTH = 32
# A hosted url (contracts.messages.mail.HostedUrl) has at most 500 characters: the base, "/i/",
# an id of up to 100 and a token of 43.
MAX_PUBLIC_URL_LENGTH = 300


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def public_base(url: str) -> str:
    """The public base URL as links start with it: http(s), a host, no query or fragment, no
    trailing slash (one is tolerated). Raises ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http:// or https:// address with a host")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValueError(f"{url!r} has a query or a fragment; links append /i/<id>/<token> to it")
    if any(character.isspace() for character in url) or len(url) > MAX_PUBLIC_URL_LENGTH:
        raise ValueError(f"{url!r} holds spaces or is longer than {MAX_PUBLIC_URL_LENGTH} characters")
    return url.rstrip("/")


@dataclass(frozen=True)
class HostedLinks:
    """The deployment's way of making hosted page links: its secret and its public base URL
    (None: the deployment has no public address, so nothing carries a link; the pages still
    open at their path)."""

    secret: str
    public_url: str | None = None

    def token(self, account_id: str, invoice_id: str, nonce: str) -> str:
        if len(self.secret) < MIN_SECRET_LENGTH:
            # Never sign with an empty or short key: anyone could make the tokens.
            raise RuntimeError(f"HOSTED_LINK_SECRET must have at least {MIN_SECRET_LENGTH} characters")
        digest = hmac.new(self.secret.encode(), f"{account_id}/{invoice_id}/{nonce}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()

    def matches(self, account_id: str, invoice_id: str, nonce: str | None, token: str) -> bool:
        """Whether `token` is the one of this invoice and nonce (None: the invoice has no page)."""
        return nonce is not None and hmac.compare_digest(self.token(account_id, invoice_id, nonce), token)

    def url(self, account_id: str, invoice_id: str, nonce: str | None) -> str | None:
        """The page's address, or None without a public base URL or a page."""
        if self.public_url is None or nonce is None:
            return None
        return f"{self.public_url}/i/{invoice_id}/{self.token(account_id, invoice_id, nonce)}"
