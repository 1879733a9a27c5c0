"""PostgreSQL adapter: a table per collection, the document as jsonb, each declared key a typed column.

`id text primary key, version bigint, doc jsonb, k_<key> ...`: a document and its keys are one row,
so every write is one atomic statement, and every query filters and sorts on indexed columns.
Connections come from a pool in autocommit mode; psycopg prepares statements it sees repeatedly.
"""

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import orjson
from psycopg import AsyncConnection, errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
from psycopg_pool import AsyncConnectionPool

from chassis.storage.base import (
    STREAM_BATCH,
    CollectionSpec,
    Condition,
    Document,
    Documents,
    DuplicateDocument,
    Order,
    StaleDocument,
    Store,
)

_COLUMN_TYPES = {
    "text": "text",
    "integer": "bigint",
    "boolean": "boolean",
    "timestamp": "timestamptz",
    "date": "date",
    "text_list": "text[]",
}
_OPERATORS = {"eq": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


# The connection whose pipeline the writes of a `PostgresStore.together` block join.
_together: ContextVar[AsyncConnection | None] = ContextVar("together", default=None)


def _column(key: str) -> sql.Identifier:
    return sql.Identifier(f"k_{key}")


def _text(query: sql.Composable) -> str:
    return query.as_string()


class PostgresDocuments(Documents):
    def __init__(self, pool: AsyncConnectionPool, spec: CollectionSpec) -> None:
        self.pool = pool
        self.spec = spec
        self.table = sql.Identifier(spec.name)
        self._key_columns = sql.SQL("").join(sql.SQL(", {}").format(_column(k.name)) for k in spec.keys)
        # Statements are composed once: composing and quoting on every call cost as much client
        # CPU as a round trip itself.
        key_slots = sql.SQL(", %s" * len(spec.keys))
        assignments = sql.SQL("").join(sql.SQL(", {} = %s").format(_column(k.name)) for k in spec.keys)
        self._get = _text(sql.SQL("SELECT doc FROM {} WHERE id = %s").format(self.table))
        self._get_many = _text(sql.SQL("SELECT id, doc FROM {} WHERE id = ANY(%s)").format(self.table))
        self._insert = _text(sql.SQL("INSERT INTO {} (id, version, doc{}) VALUES (%s, %s, %s{})").format(
            self.table, self._key_columns, key_slots))
        self._update = _text(sql.SQL("UPDATE {} SET version = %s, doc = %s{} WHERE id = %s AND version = %s").format(
            self.table, assignments))
        self._delete = _text(sql.SQL("DELETE FROM {} WHERE id = %s").format(self.table))
        self._queries: dict[tuple, str] = {}

    async def _execute(self, query: str | sql.Composable, params: Sequence[Any] = ()) -> int:
        if (shared := _together.get()) is not None:
            # Queued in the pipeline; its outcome is known when the block ends.
            await shared.execute(query, params)
            return -1
        async with self.pool.connection() as connection:
            cursor = await connection.execute(query, params)
            return cursor.rowcount

    async def _rows(self, query: str | sql.Composable, params: Sequence[Any] = ()) -> list[tuple]:
        async with self.pool.connection() as connection:
            cursor = await connection.execute(query, params)
            return await cursor.fetchall()

    def _key_params(self, document: Document) -> list[Any]:
        return list(self.spec.key_values(document).values())

    async def get(self, document_id: str) -> Document | None:
        rows = await self._rows(self._get, [document_id])
        return rows[0][0] if rows else None

    async def get_many(self, document_ids: Iterable[str]) -> dict[str, Document]:
        rows = await self._rows(self._get_many, [list(document_ids)])
        return dict(rows)

    async def insert(self, document: Document) -> None:
        try:
            await self._execute(self._insert, [document["id"], document["version"], Jsonb(document),
                                        *self._key_params(document)])
        except errors.UniqueViolation as error:
            raise DuplicateDocument(str(error.diag.constraint_name or "id")) from error

    async def insert_new(self, documents: Sequence[Document]) -> None:
        if not documents:
            return
        row = sql.SQL("(%s, %s, %s{})").format(sql.SQL(", %s" * len(self.spec.keys)))
        query = sql.SQL("INSERT INTO {} (id, version, doc{}) VALUES {} ON CONFLICT (id) DO NOTHING").format(
            self.table, self._key_columns, sql.SQL(", ").join([row] * len(documents))
        )
        params = [value for document in documents
                  for value in (document["id"], document["version"], Jsonb(document), *self._key_params(document))]
        await self._execute(query, params)

    async def update(self, document: Document, expected_version: int) -> None:
        try:
            updated = await self._execute(self._update, [document["version"], Jsonb(document), *self._key_params(document),
                                                  document["id"], expected_version])
        except errors.UniqueViolation as error:
            raise DuplicateDocument(str(error.diag.constraint_name)) from error
        if updated != 1:
            raise StaleDocument(f"{self.spec.name}/{document['id']} is not at version {expected_version}")

    async def set_fields(self, document_ids: Sequence[str], fields: Document) -> None:
        if not document_ids:
            return
        keyed = [key for key in self.spec.keys if (key.path or key.name) in fields]
        assignments = sql.SQL("").join(sql.SQL(", {} = %s").format(_column(k.name)) for k in keyed)
        query = sql.SQL("UPDATE {} SET doc = doc || %s{} WHERE id = ANY(%s)").format(self.table, assignments)
        await self._execute(query, [Jsonb(fields), *[key.typed(fields[key.path or key.name]) for key in keyed],
                                    list(document_ids)])

    async def delete(self, document_id: str) -> None:
        await self._execute(self._delete, [document_id])

    def _where(self, where: Sequence[Condition]) -> sql.Composable:
        if not where:
            return sql.SQL("")
        clauses = []
        for condition in where:
            column = _column(self.spec.key(condition.key).name)
            if condition.op == "in":
                clauses.append(sql.SQL("{} = ANY(%s)").format(column))
            elif condition.op == "contains_any":
                clauses.append(sql.SQL("{} && %s").format(column))
            elif condition.value is None and condition.op == "eq":
                clauses.append(sql.SQL("{} IS NULL").format(column))
            else:
                clauses.append(sql.SQL("{} " + _OPERATORS[condition.op] + " %s").format(column))
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses)

    def _parameters(self, where: Sequence[Condition]) -> list[Any]:
        """The values of `where`, in the order of the placeholders _where writes."""
        params = []
        for condition in where:
            key = self.spec.key(condition.key)
            if condition.op == "in":
                params.append([key.typed(value) for value in condition.value])
            elif condition.op == "contains_any":
                params.append(list(condition.value))
            elif not (condition.value is None and condition.op == "eq"):
                params.append(key.typed(condition.value))
        return params

    def _query(self, head: str, where: Sequence[Condition], order_by: Sequence[Order] = (),
               limit: int | None = None, fields: Sequence[str] | None = None) -> tuple[str, list[Any]]:
        """`head` (naming `{table}`, and `{selected}`: the document, or only `fields` of it)
        filtered, sorted and limited; the statement's text is checked and composed once per shape
        of the query, its parameters every time."""
        shape = (head, tuple((c.key, c.op, c.value is None) for c in where), tuple(order_by), limit is not None,
                 None if fields is None else tuple(fields))
        if (text := self._queries.get(shape)) is None:
            self._check(where, order_by)
            selected = sql.SQL("doc") if fields is None else sql.SQL("jsonb_build_object({})").format(
                sql.SQL(", ").join(sql.SQL("{}::text, doc->{}").format(sql.Literal(f), sql.Literal(f)) for f in fields)
            )
            query = sql.SQL(head).format(table=self.table, selected=selected) + self._where(where)
            if order_by:
                query += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(
                    sql.SQL("{} DESC" if order.descending else "{}").format(_column(order.key)) for order in order_by
                )
            if limit is not None:
                query += sql.SQL(" LIMIT %s")
            text = self._queries[shape] = _text(query)
        params = self._parameters(where)
        if limit is not None:
            params.append(limit)
        return text, params

    async def find(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                   limit: int | None = None) -> list[Document]:
        return [row[0] for row in await self._rows(*self._query("SELECT {selected} FROM {table}", where, order_by, limit))]

    async def stream(self, where: Sequence[Condition] = (), order_by: Sequence[Order] = (),
                     fields: Sequence[str] | None = None) -> AsyncIterator[Document]:
        query, params = self._query("SELECT {selected} FROM {table}", where, order_by, fields=fields)
        # A server-side cursor: PostgreSQL plans it to start fast (an index read in order rather
        # than a sort of the whole result first), and sends a batch per fetch.
        async with self.pool.connection() as connection, connection.transaction():
            cursor = connection.cursor(name="stream")
            cursor.itersize = STREAM_BATCH
            try:
                await cursor.execute(query, params)
                async for row in cursor:
                    yield row[0]
            finally:
                await cursor.close()

    async def count(self, where: Sequence[Condition] = ()) -> int:
        rows = await self._rows(*self._query("SELECT count(*) FROM {table}", where))
        return rows[0][0]

    async def delete_where(self, where: Sequence[Condition]) -> int:
        return await self._execute(*self._query("DELETE FROM {table}", where))

    def ddl(self) -> list[sql.Composable]:
        statements: list[sql.Composable] = [sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} (id text PRIMARY KEY, version bigint NOT NULL, doc jsonb NOT NULL)"
        ).format(self.table)]
        # One column per key, also for a key added to a collection that exists already: rows written
        # before have NULL there until their aggregate is written again.
        statements += [sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
            self.table, _column(key.name), sql.SQL(_COLUMN_TYPES[key.type])) for key in self.spec.keys]
        for index in self.spec.indexes:
            keys = [self.spec.key(name) for name in index.keys]
            method = sql.SQL("gin") if any(key.type == "text_list" for key in keys) else sql.SQL("btree")
            statements.append(sql.SQL("CREATE {}INDEX IF NOT EXISTS {} ON {} USING {} ({})").format(
                sql.SQL("UNIQUE " if index.unique else ""),
                sql.Identifier(f"{self.spec.name}_{index.name}"),
                self.table,
                method,
                sql.SQL(", ").join(_column(key.name) for key in keys),
            ))
        return statements


async def _use_orjson(connection: AsyncConnection) -> None:
    # Every document goes through JSON both ways; orjson takes a fraction of the json module's time.
    set_json_dumps(orjson.dumps, connection)
    set_json_loads(orjson.loads, connection)


class PostgresStore(Store):
    def __init__(self, *, url: str, database: str, pool_size: int) -> None:
        self.conninfo = make_conninfo(url, dbname=database)
        self.server_conninfo = make_conninfo(url, dbname=conninfo_to_dict(url).get("dbname") or "postgres")
        self.database = database
        self.pool = AsyncConnectionPool(self.conninfo, min_size=1, max_size=pool_size, open=False,
                                        kwargs={"autocommit": True}, configure=_use_orjson)
        self.collections: dict[str, PostgresDocuments] = {}

    async def open(self) -> None:
        await self._create_database()
        await self.pool.open(wait=True, timeout=10)

    async def _create_database(self) -> None:
        """Each service owns its database; the first start creates it."""
        async with await AsyncConnection.connect(self.server_conninfo, autocommit=True) as connection:
            cursor = await connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.database])
            if await cursor.fetchone() is None:
                try:
                    await connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
                except errors.DuplicateDatabase:
                    pass  # another instance of the service created it meanwhile

    def collection(self, spec: CollectionSpec) -> PostgresDocuments:
        return self.collections.setdefault(spec.name, PostgresDocuments(self.pool, spec))

    @asynccontextmanager
    async def _one_round_trip(self) -> AsyncIterator[None]:
        """One connection in pipeline mode: the statements are sent as they come and their results
        read once, at the end (one round trip)."""
        async with self.pool.connection() as connection, connection.pipeline():
            token = _together.set(connection)
            try:
                yield
            finally:
                _together.reset(token)

    async def prepare(self) -> None:
        async with self.pool.connection() as connection:
            for collection in self.collections.values():
                for statement in collection.ddl():
                    await connection.execute(statement)

    async def ping(self) -> None:
        async with self.pool.connection(timeout=2) as connection:
            await connection.execute("SELECT 1")

    async def close(self) -> None:
        await self.pool.close()
