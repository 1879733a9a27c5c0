"""The CLI's Kafka clients: the usual settings from the environment, and refusals said plainly.

KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD (or
KAFKA_SASL_PASSWORD_FILE) and KAFKA_SSL_CAFILE, as the services read them (chassis/settings.py);
`source deploy/env/dev.env` sets them to the operators' principal of the local stack.

aiokafka's own clients, not FastStream's broker: the CLI publishes and reads a few records, and
FastStream's import alone costs more than a whole publish should take (docs/usage.md, "Speed").
"""

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from chassis.kafka_errors import explain
from chassis.settings import KafkaSettings
from cli.exit_codes import ExitCode

T = TypeVar("T")


@dataclass(frozen=True)
class Record:
    topic: str
    headers: dict[str, str]
    body: bytes


class Watcher:
    """Reads topics from their end, without a consumer group (no offsets left behind)."""

    def __init__(self, bootstrap: str, topics: tuple[str, ...]) -> None:
        self.consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                         enable_auto_commit=False, auto_offset_reset="latest",
                                         **KafkaSettings().aiokafka_options())
        self._read: deque[Record] = deque()

    async def start(self) -> None:
        """Returns once the watcher reads from the end of every partition: what is published
        after this, it sees."""
        await self.consumer.start()
        while not self.consumer.assignment():
            await asyncio.sleep(0.02)
        await asyncio.gather(*(self.consumer.position(p) for p in self.consumer.assignment()))

    async def get_one(self, timeout: float) -> Record | None:
        if not self._read:
            for records in (await self.consumer.getmany(timeout_ms=int(timeout * 1000))).values():
                self._read.extend(Record(record.topic, {n: (v or b"").decode(errors="replace") for n, v in record.headers},
                                         record.value or b"") for record in records)
        return self._read.popleft() if self._read else None

    async def stop(self) -> None:
        await self.consumer.stop()


class Kafka:
    def __init__(self, bootstrap: str, producer: AIOKafkaProducer) -> None:
        self.bootstrap = bootstrap
        self.producer = producer

    async def publish(self, body: bytes, *, topic: str, key: bytes, headers: dict[str, str],
                      correlation_id: str | None = None, no_confirm: bool = False) -> Awaitable | None:
        """Sends one record; with `no_confirm`, returns at once what to await for Kafka's
        acknowledgement (to send many without a round trip each). `correlation_id` is the
        envelope's (`ce_correlationid`), already in the headers."""
        delivery = await self.producer.send(topic, body, key=key,
                                            headers=[(name, value.encode()) for name, value in headers.items()])
        if no_confirm:
            return delivery
        await delivery
        return None

    def subscriber(self, *topics: str) -> Watcher:
        return Watcher(self.bootstrap, topics)


@asynccontextmanager
async def broker(bootstrap: str) -> AsyncIterator[Kafka]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **KafkaSettings().aiokafka_options())
    await producer.start()
    try:
        yield Kafka(bootstrap, producer)
    finally:
        await producer.stop()


async def read_to_end(bootstrap: str, topic: str) -> list[Any]:
    """Every record of `topic` from its beginning to its end now (for a compacted topic: the
    latest of each key, and perhaps some older ones); [] when the topic does not exist."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", **KafkaSettings().aiokafka_options())
    await consumer.start()
    try:
        if topic not in await consumer.topics():
            return []
        deadline = asyncio.get_running_loop().time() + 10
        while not consumer.assignment():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no partition of {topic} was assigned")
            await asyncio.sleep(0.02)
        partitions: list[TopicPartition] = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        found = []
        while any([await consumer.position(p) < ends[p] for p in partitions]):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                found += records
        return found
    finally:
        await consumer.stop()


def run(coroutine: Coroutine[Any, Any, T], bootstrap: str) -> T:
    """asyncio.run, with Kafka not answering (exit 4) or refusing the login or an ACL (exit 6)
    said in one sentence."""
    # The client's own complaints on the way to an error: the one sentence below says it.
    for noisy in ("aiokafka", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)

    async def explained() -> T:
        try:
            return await coroutine
        except Exception as error:
            reason = await explain(error, KafkaSettings(), bootstrap)
            if reason is None and isinstance(error, (KafkaError, OSError, TimeoutError)):
                typer.secho(f"Kafka at {bootstrap} did not answer: {error}", fg="red", err=True)
                raise typer.Exit(ExitCode.UNREACHABLE) from None
            if reason is None:
                raise
            typer.secho(reason, fg="red", err=True)
            raise typer.Exit(ExitCode.KAFKA_REFUSED) from None

    return asyncio.run(explained())
