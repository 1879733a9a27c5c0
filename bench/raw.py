"""The raw bound: the store operations and Kafka messages a run caused, issued with the bare
drivers (psycopg, aiokafka) and nothing else, timed on the same machine."""

import asyncio
import json
import time
import uuid
from collections import Counter

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from psycopg import AsyncConnection
from psycopg.conninfo import make_conninfo
from psycopg.types.json import Jsonb

from tests.integration.harness import kafka_options

TABLE = "bench_raw"
# Each operation kind of the storage interface as the statement the PostgreSQL adapter sends.
STATEMENTS = {
    "get": f"SELECT doc FROM {TABLE} WHERE id = %(id)s",
    "get_many": f"SELECT id, doc FROM {TABLE} WHERE id = ANY(%(ids)s)",
    "find": f"SELECT doc FROM {TABLE} WHERE k_status = %(status)s ORDER BY k_at LIMIT 1",
    "count": f"SELECT count(*) FROM {TABLE} WHERE k_status = %(status)s",
    "insert": f"INSERT INTO {TABLE} (id, version, doc, k_status, k_at) VALUES (%(new)s, 1, %(doc)s, 'open', now())",
    "insert_new": f"INSERT INTO {TABLE} (id, version, doc, k_status, k_at) VALUES (%(new)s, 1, %(doc)s, 'open', now()) "
                  "ON CONFLICT (id) DO NOTHING",
    "update": f"UPDATE {TABLE} SET version = version + 1, doc = %(doc)s, k_status = 'open' WHERE id = %(id)s",
    "set_fields": f"UPDATE {TABLE} SET doc = doc || %(patch)s WHERE id = ANY(%(ids)s)",
    "delete": f"DELETE FROM {TABLE} WHERE id = %(new)s",
    "delete_where": f"DELETE FROM {TABLE} WHERE k_status = 'none'",
}


async def store_seconds(url: str, operations: Counter, document: dict, workers: int = 8) -> float:
    """Seconds to issue `operations` (kind -> count) with `workers` connections of their own."""
    conninfo = make_conninfo(url)  # the invoices service's database, as its role
    async with await AsyncConnection.connect(conninfo, autocommit=True) as setup:
        await setup.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await setup.execute(f"CREATE TABLE {TABLE} (id text PRIMARY KEY, version bigint, doc jsonb, k_status text, "
                            "k_at timestamptz)")
        await setup.execute(f"CREATE INDEX ON {TABLE} (k_status, k_at)")
        await setup.execute(f"INSERT INTO {TABLE} SELECT 'r' || i, 1, %s, 'open', now() FROM generate_series(1, 1000) i",
                            [Jsonb(document)])
    queue = [kind for kind, count in operations.items() if kind in STATEMENTS for _ in range(int(count))]

    rows_each = 1000 // workers

    async def work(worker: int, share: list[str]) -> None:
        # Each worker writes rows of its own, as each aggregate has one writer in the services.
        def row(position: int) -> str:
            return f"r{worker * rows_each + position % rows_each + 1}"

        async with await AsyncConnection.connect(conninfo, autocommit=True) as connection:
            for position, kind in enumerate(share):
                await connection.execute(STATEMENTS[kind], {
                    "id": row(position), "ids": [row(position + i) for i in range(4)],
                    "new": f"n{uuid.uuid4().hex}", "doc": Jsonb(document), "status": "open",
                    "patch": Jsonb({"outbox": []}),
                })

    started = time.perf_counter()
    await asyncio.gather(*(work(worker, queue[worker::workers]) for worker in range(workers)))
    return time.perf_counter() - started


async def kafka_seconds(bootstrap: str, produced: int, consumed: int, size: int = 1200) -> float:
    """Seconds to produce `produced` records (acks=all, idempotent, as the services do) and to
    consume `consumed` of them with a consumer group."""
    topic = f"bench-raw-{uuid.uuid4().hex[:8]}"
    # The raw bound runs as the super user: it creates its own topic, and joins groups of its own.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_options("admin"))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2,
                                **kafka_options("admin"))
    await producer.start()
    body = json.dumps({"padding": "x" * size}).encode()
    started = time.perf_counter()
    try:
        sends = [await producer.send(topic, body, key=f"k{i % 64}".encode(), headers=[("ce_type", b"bench")])
                 for i in range(produced)]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    remaining = consumed
    while remaining > 0:  # more consumed than produced: several groups read the topic, as services do
        remaining -= await _consume(bootstrap, topic, min(remaining, produced))
    return time.perf_counter() - started


async def _consume(bootstrap: str, topic: str, count: int) -> int:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-raw-{uuid.uuid4()}",
                                auto_offset_reset="earliest", enable_auto_commit=False, **kafka_options("admin"))
    await consumer.start()
    try:
        taken = 0
        while taken < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            taken += sum(len(records) for records in batch.values())
            await consumer.commit()
        return taken
    finally:
        await consumer.stop()
