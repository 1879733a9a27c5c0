"""Which offsets a handled batch commits: those of its own partitions, not of every assigned one.

FastStream acknowledges a batch with aiokafka's commit() without offsets, which commits the
position of every partition the consumer is assigned: one OffsetCommit listing them all, per
batch, however few of them the batch read. A service's subscription covers every integrator's
copy of its topics (three partitions each), so most of that list never moved.
"""

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


class PartitionOffsets:
    """The next offset of each partition whose handled records are not committed yet.

    Offsets a commit failed to store stay owed and go with the next batch's commit, so a
    partition that receives nothing more is still committed up to what was handled (its lag
    drops to zero, chassis.progress). Those of a partition no longer assigned are dropped: its
    new owner reads from the last commit, and the inbox spares a second effect.
    """

    def __init__(self) -> None:
        self.owed: dict[TopicPartition, int] = {}

    def for_batch(self, consumer: AIOKafkaConsumer, records: Iterable[ConsumerRecord]) -> "BatchAcknowledgement":
        return BatchAcknowledgement(self, consumer, records)

    async def commit(self, consumer: AIOKafkaConsumer, handled: dict[TopicPartition, int]) -> None:
        assigned = consumer.assignment()
        offsets = {partition: offset for partition, offset in (self.owed | handled).items() if partition in assigned}
        # Until the commit is stored (the subscriber acknowledges one batch at a time).
        self.owed = offsets
        if offsets:
            await consumer.commit(offsets)
        self.owed = {}


class BatchAcknowledgement:
    """The Kafka consumer as FastStream's ack and nack of one batch use it.

    FastStream acknowledges a batch once its handler returned (AckPolicy.NACK_ON_ERROR), which
    in the chassis is after its effects, outboxes and inbox writes are stored: `commit` then
    commits the next offset of each partition the batch has records of. When the handler
    raised, FastStream's nack seeks each of the batch's partitions back to its first record, so
    the batch is delivered again, never skipped.
    """

    def __init__(self, offsets: PartitionOffsets, consumer: AIOKafkaConsumer, records: Iterable[ConsumerRecord]) -> None:
        self.offsets = offsets
        self.consumer = consumer
        self.handled: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self.handled[partition] = max(self.handled.get(partition, 0), record.offset + 1)

    async def commit(self) -> None:
        await self.offsets.commit(self.consumer, self.handled)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.consumer.seek(partition, offset)
