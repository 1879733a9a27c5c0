"""One small document-storage interface, with an adapter per store (PostgreSQL, MongoDB).

Repositories are written once against `Documents`. A document is a JSON-ready dict with an `id`
and a `version`; each write of one document is atomic in both stores, which is all the platform
asks of them (no multi-document transactions). Fields that repositories query by are declared as
`Key`s, so each store keeps them in an indexed, typed form and every hot-path read uses an index.
"""

from psycopg import OperationalError
from pymongo.errors import ConnectionFailure

from chassis.storage.base import (
    CollectionSpec,
    Condition,
    Documents,
    DuplicateDocument,
    Index,
    Key,
    Order,
    StaleDocument,
    Store,
    open_store,
    when_made,
)

# The store is away (down, restarting, unreachable, out of connections): not the message's fault.
STORE_UNAVAILABLE = (OperationalError, ConnectionFailure)

__all__ = [
    "STORE_UNAVAILABLE",
    "CollectionSpec",
    "Condition",
    "Documents",
    "DuplicateDocument",
    "Index",
    "Key",
    "Order",
    "StaleDocument",
    "Store",
    "open_store",
    "when_made",
]
