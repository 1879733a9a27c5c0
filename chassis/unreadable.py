"""Records that FastStream or the Kafka client cannot read as they are: kept from stopping their
partition, so the consumer can dead-letter them and move on."""

import dataclasses

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from faststream.kafka import KafkaMessage

from chassis.messaging import readable_headers
from contracts.envelope import Envelope, InvalidEnvelope


async def parse_despite_undecodable_headers(records: tuple[ConsumerRecord, ...], parse) -> KafkaMessage:
    """FastStream decodes every header value as UTF-8 before any handler runs, so a batch with a
    record whose header is not would fail there and be committed past, unseen. Parse copies
    without such values and hand on the original records: on_batch judges each record's headers
    and dead-letters the broken ones."""
    try:
        return await parse(records)
    except UnicodeDecodeError:
        message = await parse(tuple(
            dataclasses.replace(record, headers=[(name, value) for name, value in record.headers if _is_utf8(value)])
            for record in records
        ))
        message.raw_message = records
        return message


def _is_utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
        return True
    except UnicodeDecodeError:
        return False


async def skip_unreadable_record(kafka_consumer: AIOKafkaConsumer, read=None) -> tuple[TopicPartition, int] | None:
    """Find the partition whose next record the client cannot unpack, and move past that record.

    Partitions are read one at a time so the failing one shows; a record read from a healthy
    one on the way is given back (its partition is sought back to it). Only partitions with
    records waiting are read: a read of an empty one waits out its timeout, and a consumer that
    subscribes to every integrator's topics has many. Returns the partition and the offset
    skipped, or None when no partition fails right now.
    """
    read = read or kafka_consumer.getmany
    assigned = sorted(kafka_consumer.assignment())
    ends = await kafka_consumer.end_offsets(assigned) if assigned else {}
    for partition in assigned:
        if await kafka_consumer.position(partition) >= ends[partition]:
            continue
        try:
            fetched = await read(partition, timeout_ms=2000, max_records=1)
        except UnicodeDecodeError:
            offset = await kafka_consumer.position(partition)
            kafka_consumer.seek(partition, offset + 1)
            return partition, offset
        for record in fetched.get(partition, []):
            kafka_consumer.seek(partition, record.offset)
    return None


def readable_envelope(record: ConsumerRecord) -> Envelope | None:
    """The envelope of a record whose headers are not all UTF-8, read leniently, so its sender
    can still be answered; None when even that is no valid envelope."""
    try:
        return Envelope.from_headers(readable_headers(record.headers))
    except InvalidEnvelope:
        return None
