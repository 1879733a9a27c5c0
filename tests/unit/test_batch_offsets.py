"""What FastStream's ack and nack of a batch do to Kafka offsets: the ack commits the batch's
own partitions, at the offset after each one's last record; the nack rewinds them."""

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.parser import AioKafkaBatchParser

from tests.unit.harness import Platform

A0, A1, B0, IDLE = (TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0),
                    TopicPartition("idle", 0))


class KafkaConsumer:
    """Stands in for aiokafka's consumer: its assignment, and what was committed and sought."""

    def __init__(self) -> None:
        self.assigned = {A0, A1, B0, IDLE}
        self.commits: list[dict[TopicPartition, int]] = []
        self.sought: dict[TopicPartition, int] = {}
        self.fail_next_commit = False

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    async def commit(self, offsets=None) -> None:
        assert offsets is not None, "every assigned partition committed"
        if self.fail_next_commit:
            self.fail_next_commit = False
            raise KafkaConnectionError("the coordinator is away")
        self.commits.append(offsets)

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.sought[partition] = offset


def record(partition: TopicPartition, offset: int) -> ConsumerRecord:
    return ConsumerRecord(topic=partition.topic, partition=partition.partition, offset=offset, timestamp=0,
                          timestamp_type=0, key=b"k", value=b"{}", checksum=None, serialized_key_size=1,
                          serialized_value_size=2, headers=[])


@pytest.fixture
def kafka() -> KafkaConsumer:
    return KafkaConsumer()


@pytest.fixture
def received(kafka):
    """FastStream's message of a batch, as the subscriber's parser makes it for the consumer."""
    consumer = Platform("numbering").numbering.consumer
    parser = AioKafkaBatchParser(msg_class=KafkaAckableMessage, regex=None)
    parser._setup(kafka)

    async def batch(*records: ConsumerRecord) -> KafkaAckableMessage:
        return await consumer._parse(records, parser.parse_batch)

    return batch


async def test_the_ack_commits_the_offset_after_the_last_record_of_each_partition_of_the_batch(kafka, received):
    message = await received(record(A0, 4), record(B0, 9), record(A0, 5), record(A0, 6))
    await message.ack()
    assert kafka.commits == [{A0: 7, B0: 10}]


async def test_offsets_a_failed_commit_left_go_with_the_next_batch(kafka, received):
    kafka.fail_next_commit = True
    with pytest.raises(KafkaConnectionError):
        await (await received(record(A0, 4), record(B0, 9))).ack()
    await (await received(record(A0, 5))).ack()
    assert kafka.commits == [{A0: 6, B0: 10}]
    await (await received(record(A1, 0))).ack()
    assert kafka.commits[-1] == {A1: 1}


async def test_a_partition_no_longer_assigned_is_not_committed(kafka, received):
    message = await received(record(A0, 4), record(B0, 9))
    kafka.assigned.discard(B0)  # revoked while the batch was handled
    await message.ack()
    assert kafka.commits == [{A0: 5}]


async def test_the_nack_rewinds_each_partition_to_the_first_record_of_the_batch(kafka, received):
    message = await received(record(A0, 4), record(B0, 9), record(A0, 5))
    await message.nack()
    assert kafka.sought == {A0: 4, B0: 9}
    assert kafka.commits == []
