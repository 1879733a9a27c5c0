"""Whether the service's consumer keeps up: lag per partition, and partitions it has stopped advancing on.

The consumer commits a partition's offset only once a record's effects are stored and published,
so a committed offset that does not move while records wait behind it means one record is stuck
(an outage that outlasts the retries, a bug that escapes the dead-letter path). That is exported
as `invoicing_consumer_stalled_seconds`, fails /readyz after `CONSUMER_STALL_SECONDS`, and an
alert fires on it; `invoicing_consumer_lag_records` shows how far behind each partition is.
"""

import asyncio
import logging
import time
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry, Gauge

logger = logging.getLogger(__name__)


@dataclass
class PartitionProgress:
    """Pure bookkeeping: when the committed offset of one partition last moved, or was caught up."""

    committed: int | None = None
    lag: int = 0
    advanced_at: float = field(default_factory=time.monotonic)

    def observe(self, committed: int | None, end: int, now: float) -> None:
        self.lag = max(0, end - (committed or 0))
        if committed != self.committed or self.lag == 0:
            self.advanced_at = now
        self.committed = committed

    def stalled_seconds(self, now: float) -> float:
        return 0.0 if self.lag == 0 else now - self.advanced_at


class ConsumerProgress:
    def __init__(self, registry: CollectorRegistry, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        self.partitions: dict[TopicPartition, PartitionProgress] = {}
        self.lag = Gauge(
            "invoicing_consumer_lag_records",
            "Records on the partition that the service's consumer group has not committed yet",
            ["topic", "partition"],
            registry=registry,
        )
        self.stalled = Gauge(
            "invoicing_consumer_stalled_seconds",
            "How long the committed offset has not moved while records were waiting (0: caught up or moving)",
            ["topic", "partition"],
            registry=registry,
        )

    async def observe(self, consumer: AIOKafkaConsumer) -> None:
        assigned = sorted(consumer.assignment())
        ends = await consumer.end_offsets(assigned) if assigned else {}
        committed = await _committed(consumer, assigned)
        now = time.monotonic()
        for partition in assigned:
            progress = self.partitions.setdefault(partition, PartitionProgress())
            progress.observe(committed.get(partition), ends[partition], now)
        for gone in set(self.partitions) - set(assigned):
            # Another member of the group owns it now and reports it.
            del self.partitions[gone]
            self.lag.remove(gone.topic, str(gone.partition))
            self.stalled.remove(gone.topic, str(gone.partition))
        for partition, progress in self.partitions.items():
            labels = (partition.topic, str(partition.partition))
            self.lag.labels(*labels).set(progress.lag)
            self.stalled.labels(*labels).set(progress.stalled_seconds(now))

    def stalled_partitions(self) -> list[str]:
        now = time.monotonic()
        return [
            f"{partition.topic}[{partition.partition}] for {progress.stalled_seconds(now):.0f}s"
            for partition, progress in sorted(self.partitions.items())
            if progress.stalled_seconds(now) > self.stall_seconds
        ]

    async def watch(self, consumers, interval: float) -> None:
        """Observe every interval; `consumers` yields the running Kafka consumers."""
        while True:
            for consumer in consumers():
                try:
                    await self.observe(consumer)
                except Exception:
                    # Kafka being away is reported by /readyz on its own; keep the last figures.
                    logger.warning("consumer progress not observed this time", exc_info=True)
            await asyncio.sleep(interval)


async def _committed(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The group's committed offset of each partition that has one (none: never committed), in
    one request.

    aiokafka's public committed() asks the group coordinator about one partition per request: a
    request per assigned partition (a hundred or more with the integrators' topics) every
    interval. Its coordinator asks about all of them at once."""
    found = await consumer._coordinator.fetch_committed_offsets(partitions)
    return {partition: offset.offset for partition, offset in found.items()}
