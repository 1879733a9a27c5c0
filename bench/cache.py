"""What the aggregate cache saves the invoices service: its consumer's CPU per lifecycle on PostgreSQL.

    make bench-cache [BENCH_ARGS="--lifecycles 200 --rounds 3"]    (on the test stack's PostgreSQL)

The four services of the unit tests' harness (tests/unit/harness.py: Kafka replaced by one log,
records handed to Consumer.on_batch one at a time), with invoices alone on PostgreSQL: configure,
create, finalize (numbering answers), send (the mailer queues the mail) and its mail progress, for
each lifecycle, once with AGGREGATE_CACHE_MIB=0, once with the default, and once more with the
default but the bookkeeping after each batch (outboxes cleared, ids remembered) made one write at
a time instead of in one pipelined round trip (Store.together). Records go one by one,
so only the invoices consumer runs while it handles one: the process CPU spent inside its
on_batch is its own. After a warm-up, the configurations take turns for a few rounds; prints the
best CPU per lifecycle of each and its store operations per lifecycle; asserts nothing.
"""

import argparse
import asyncio
import os
import time
import uuid
from collections import Counter

from psycopg import AsyncConnection, sql

from chassis.storage import Store, open_store
from contracts.messages.invoices import FinalizeInvoice, SendInvoice
from tests.integration.factories import configure_account, create_invoice
from tests.integration.harness import database_url
from tests.unit import harness


async def run(lifecycles: int, cache_mib: str | None, together: bool = True) -> tuple[float, Counter]:
    if cache_mib is None:
        os.environ.pop("AGGREGATE_CACHE_MIB", None)
    else:
        os.environ["AGGREGATE_CACHE_MIB"] = cache_mib
    store = open_store(database_url("postgres"), f"bench_cache_{uuid.uuid4().hex[:8]}")
    if not together:
        store._one_round_trip = lambda: Store._one_round_trip(store)  # the bookkeeping: a round trip per write
    await store.open()
    assembled = harness.ASSEMBLIES["invoices"]
    harness.ASSEMBLIES["invoices"] = lambda _memory: assembled(store)
    try:
        platform = harness.Platform()
    finally:
        harness.ASSEMBLIES["invoices"] = assembled
    invoices = platform.invoices
    await invoices.service.store.prepare()
    spent = 0.0
    on_batch = invoices.consumer.on_batch

    async def timed(message):
        nonlocal spent
        started = time.process_time()
        try:
            await on_batch(message)
        finally:
            spent += time.process_time() - started
    invoices.consumer.on_batch = timed
    await platform.send(configure_account(harness.ACCOUNT), harness.ACCOUNT)
    spent = 0.0
    before = _operations(invoices)
    for n in range(lifecycles):
        invoice_id = f"inv_{n}"
        await platform.send(create_invoice(invoice_id), harness.ACCOUNT)
        await platform.send(FinalizeInvoice(invoice_id=invoice_id), harness.ACCOUNT)
        await platform.send(SendInvoice(invoice_id=invoice_id), harness.ACCOUNT)
    operations = _operations(invoices) - before
    await store.close()
    async with await AsyncConnection.connect(store.server_conninfo, autocommit=True) as connection:
        await connection.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(store.database)))
    return spent / lifecycles, operations


def _operations(invoices) -> Counter:
    counted = Counter()
    for metric in invoices.service.metrics.registry.collect():
        if metric.name == "invoicing_store_operations":
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    counted[f"{sample.labels['collection']}.{sample.labels['operation']}"] += sample.value
    return counted


CONFIGURATIONS = {"no cache": ("0", True), "cache (default size)": (None, True),
                  "cache, bookkeeping not together": (None, False)}


async def main(lifecycles: int, rounds: int) -> None:
    await run(lifecycles // 5 or 1, None)  # warm up: imports, prepared statements, the first validations
    best: dict[str, tuple[float, Counter]] = {}
    for _ in range(rounds):  # interleaved, so a change of the machine's load meets every configuration
        for label, (cache_mib, together) in CONFIGURATIONS.items():
            cpu, operations = await run(lifecycles, cache_mib, together)
            if label not in best or cpu < best[label][0]:
                best[label] = (cpu, operations)
    for label, (cpu, operations) in best.items():
        shown = ", ".join(f"{name} {count / lifecycles:.1f}" for name, count in operations.most_common())
        print(f"invoices consumer, {label}: {cpu * 1000:.2f} ms CPU per lifecycle (best of {rounds}); store "
              f"operations per lifecycle: {shown}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.lifecycles, arguments.rounds))
