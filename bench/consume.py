"""What aiokafka's consumer costs per record as a service uses it, by how many partitions it is
assigned, how it commits and how it fetches; and what a publish costs through FastStream.

    make bench-consume BENCH_ARGS="--rate 150 --seconds 15 --idle-topics 40"

A producer process writes `--rate` records a second (1.2 KB, 50 keys) to one topic of 3
partitions. Next to it are `--idle-topics` topics of 3 partitions that nothing writes, as a
service's subscription covers every integrator's copy of its topics. Each variant is a consumer
of a group of its own that loops as FastStream's batch subscriber does (getmany, at most 500
records, 20 ms) and commits after each batch: every assigned partition (FastStream's ack), or
the batch's own (chassis.offsets). Prints, per variant, the consumer process's CPU per record,
the fetch requests a second and records per fetch, and the milliseconds from the producer's
send to getmany (p50, p99). Then the CPU of one publish: aiokafka's send, FastStream's publish
as chassis.messaging.Publisher calls it, with and without the Prometheus middleware. Asserts
nothing.
"""

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from tests.integration.harness import env, kafka_options, kafka_settings

VALUE = b"x" * 1200


def _produce(bootstrap: str, topic: str, rate: float, stop) -> None:
    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=1,
                                    **kafka_options("admin"))
        await producer.start()
        try:
            started, sent = time.monotonic(), 0
            while not stop.is_set():
                due = started + sent / rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await producer.send(topic, VALUE, key=b"k%d" % (sent % 50),
                                    headers=[("sent", repr(time.time()).encode())])
                sent += 1
        finally:
            await producer.stop()

    asyncio.run(run())


async def consume(bootstrap: str, topics: list[str] | None, pattern: str | None, seconds: float, *,
                  commit_batch: bool, fetch_max_wait_ms: int, fetch_min_bytes: int) -> dict:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=f"bench-consume-{uuid.uuid4().hex[:8]}", enable_auto_commit=False,
        auto_offset_reset="latest", fetch_max_wait_ms=fetch_max_wait_ms, fetch_min_bytes=fetch_min_bytes,
        metadata_max_age_ms=5000, **kafka_options("admin"))
    if pattern:
        consumer.subscribe(pattern=pattern)
    else:
        consumer.subscribe(topics)
    await consumer.start()
    fetches = 0
    fetch = consumer._fetcher._proc_fetch_request

    async def counted(*args):
        nonlocal fetches
        fetches += 1
        return await fetch(*args)

    consumer._fetcher._proc_fetch_request = counted
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        assigned = len(consumer.assignment())
        # Warm up: the group settles, the first fetches come back.
        warm_until = time.monotonic() + 2
        while time.monotonic() < warm_until:
            await consumer.getmany(timeout_ms=20, max_records=500)
        latencies: list[float] = []
        fetches, records = 0, 0
        cpu, wall = time.process_time(), time.monotonic()
        while time.monotonic() - wall < seconds:
            batch = await consumer.getmany(timeout_ms=20, max_records=500)
            if not batch:
                continue
            now = time.time()
            for partition_records in batch.values():
                for record in partition_records:
                    latencies.append(now - float(dict(record.headers)["sent"]))
                records += len(partition_records)
            if commit_batch:
                await consumer.commit({partition: partition_records[-1].offset + 1
                                       for partition, partition_records in batch.items()})
            else:
                await consumer.commit()
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    finally:
        await consumer.stop()
    latencies.sort()
    return {"partitions": assigned, "records": records, "cpu_ms": cpu / max(records, 1) * 1000,
            "fetches_s": fetches / wall, "per_fetch": records / max(fetches, 1),
            "p50": statistics.median(latencies) * 1000 if latencies else 0,
            "p99": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else 0}


async def publish_costs(bootstrap: str, topic: str, count: int) -> list[tuple[str, float]]:
    """CPU µs per record to hand `count` records to the producer and await them all at once."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=1,
                                **kafka_options("admin"))
    await producer.start()
    results = []
    try:
        started = time.process_time()
        await asyncio.gather(*[await producer.send(topic, VALUE, key=b"k%d" % (i % 50)) for i in range(count)])
        results.append(("aiokafka send", (time.process_time() - started) / count * 1e6))
    finally:
        await producer.stop()
    settings = kafka_settings("admin")
    headers = {f"ce_{name}": "x" * 36 for name in ("id", "source", "type", "subject", "accountid", "correlationid")}
    for label, middlewares in (("FastStream publish", ()),
                               ("FastStream publish, Prometheus middleware",
                                (KafkaPrometheusMiddleware(registry=CollectorRegistry(), app_name="bench"),))):
        broker = KafkaBroker(bootstrap, security=settings.faststream_security(), acks="all", enable_idempotence=True,
                             linger_ms=1, middlewares=middlewares)
        await broker.connect()
        try:
            started = time.process_time()
            deliveries = [await broker.publish(VALUE, topic=topic, key=b"k%d" % (i % 50), headers=headers,
                                               correlation_id="c", no_confirm=True) for i in range(count)]
            await asyncio.gather(*deliveries)
            results.append((label, (time.process_time() - started) / count * 1e6))
        finally:
            await broker.stop()
    return results


async def main(args: argparse.Namespace) -> None:
    bootstrap = env("KAFKA_BOOTSTRAP_SERVERS")
    base = f"bench-consume-{uuid.uuid4().hex[:8]}"
    busy = f"{base}.busy"
    idle = [f"{base}.idle{n}" for n in range(args.idle_topics)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **kafka_options("admin"))
    await admin.start()
    await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1) for topic in [busy, *idle]])
    # Spawned: a forked child would inherit this process's running event loop.
    processes = multiprocessing.get_context("spawn")
    stop = processes.Event()
    producer = processes.Process(target=_produce, args=(bootstrap, busy, args.rate, stop))
    producer.start()
    try:
        print(f"{args.rate:.0f} records/s to {busy} (3 partitions); {len(idle)} idle topics of 3 partitions;"
              f" {os.cpu_count()} cores")
        print(f"{'variant':58} {'parts':>5} {'CPU ms/rec':>10} {'fetch/s':>8} {'rec/fetch':>9} {'p50 ms':>7} {'p99 ms':>7}")
        variants = [("3 partitions, commit all, fetch defaults", [busy], None, False, 500, 1)]
        for commit_batch in (False, True):
            for wait, min_bytes in ((500, 1), *((wait, 1 << 20) for wait in args.waits)):
                name = (f"{len(idle) * 3 + 3} partitions, commit {'batch' if commit_batch else 'all'}, "
                        f"fetch_max_wait_ms={wait} fetch_min_bytes={min_bytes}")
                variants.append((name, None, f"{base}\\..*", commit_batch, wait, min_bytes))
        for name, topics, pattern, commit_batch, wait, min_bytes in variants:
            result = await consume(bootstrap, topics, pattern, args.seconds, commit_batch=commit_batch,
                                   fetch_max_wait_ms=wait, fetch_min_bytes=min_bytes)
            print(f"{name:58} {result['partitions']:5d} {result['cpu_ms']:10.3f} {result['fetches_s']:8.1f}"
                  f" {result['per_fetch']:9.2f} {result['p50']:7.1f} {result['p99']:7.1f}", flush=True)
        stop.set()
        producer.join()
        for label, micros in await publish_costs(bootstrap, busy, args.publishes):
            print(f"publish, {label:50} {micros:7.1f} µs CPU/record")
    finally:
        stop.set()
        producer.join()
        await admin.delete_topics([busy, *idle])
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=150.0, help="records a second the producer writes")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per variant")
    parser.add_argument("--idle-topics", type=int, default=40, help="topics of 3 partitions nothing writes")
    parser.add_argument("--waits", type=int, nargs="*", default=[5, 10, 20],
                        help="fetch_max_wait_ms values tried with fetch_min_bytes=1 MiB")
    parser.add_argument("--publishes", type=int, default=5000, help="records per publish measurement")
    asyncio.run(main(parser.parse_args()))
