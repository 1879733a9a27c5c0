"""Records that FastStream or the Kafka client cannot read as they are: handed to the consumer
anyway, so it dead-letters each of them (with its bytes) and handles the records around it."""

import dataclasses
import struct

import aiokafka.consumer.fetcher
from aiokafka import ConsumerRecord
from aiokafka.errors import CorruptRecordException
from aiokafka.record.default_records import _DefaultRecordBatchPy
from aiokafka.record.memory_records import MemoryRecords
from faststream.kafka import KafkaMessage

from chassis.messaging import readable_headers
from contracts.envelope import Envelope, InvalidEnvelope


def read_undecodable_header_names() -> None:
    """Make the Kafka client hand on records whose header names are not UTF-8.

    aiokafka decodes header names as UTF-8 while it unpacks a fetched record batch (in its C
    extension), and one such name fails the whole batch, for good: the valid records produced
    with it would never be read. Batches are read as before, at the C extension's speed; only a
    batch that fails so is read again, by aiokafka's pure-Python reader with the name's
    undecodable bytes kept as surrogate escapes (chassis.messaging.decode_headers refuses such a
    name with `invalid_header`, and readable_headers shows it as \\xNN). Idempotent.
    """
    aiokafka.consumer.fetcher.MemoryRecords = _fetched_records


def _fetched_records(data: bytes):
    """One partition of a fetch response. Every fetch lists every assigned partition (a hundred
    or more with the integrators' topics) and most come back empty: those are left to aiokafka's
    own reader, which costs a fraction of a wrapper per partition and fetch."""
    return _TolerantRecords(data) if data else MemoryRecords(data)


class _TolerantRecords:
    """aiokafka's MemoryRecords over one fetched partition, which also keeps each batch's bytes."""

    def __init__(self, data: bytes) -> None:
        self._records = MemoryRecords(data)
        self._data = memoryview(data)
        self._position = 0

    def size_in_bytes(self) -> int:
        return self._records.size_in_bytes()

    def has_next(self) -> bool:
        return self._records.has_next()

    def next_batch(self):
        batch = self._records.next_batch()
        # A batch is its base offset (8 bytes), its length (4) and that many bytes, as
        # MemoryRecords itself cuts them.
        start = self._position
        self._position = start + 12 + struct.unpack_from(">i", self._data, start + 8)[0]
        if batch is None or batch.magic < 2:  # before record headers existed
            return batch
        return _TolerantBatch(batch, self._data[start:self._position])


class _TolerantBatch:
    def __init__(self, batch, data: memoryview) -> None:
        self._batch = batch
        self._data = data

    def __getattr__(self, name: str):
        return getattr(self._batch, name)

    def __iter__(self):
        read = -1
        try:
            for record in self._batch:
                read = record.offset
                yield record
        except (UnicodeDecodeError, CorruptRecordException) as error:
            # The pure-Python reader reports the same failure as a corrupt record.
            if not isinstance(error, UnicodeDecodeError) and not isinstance(error.__cause__, UnicodeDecodeError):
                raise
            for record in _EscapingBatch(self._data):
                if record.offset > read:
                    yield record


class _EscapingBatch(_DefaultRecordBatchPy):
    """aiokafka's pure-Python batch reader, decoding header names with surrogate escapes: it
    slices names out of its buffer and calls .decode("utf-8") on the slice."""

    def _maybe_uncompress(self) -> None:
        super()._maybe_uncompress()
        self._buffer = _EscapingBuffer(self._buffer)


class _EscapingBuffer(bytearray):
    def __getitem__(self, index):
        item = super().__getitem__(index)
        return _EscapingBytes(item) if isinstance(index, slice) else item


class _EscapingBytes(bytes):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return super().decode(encoding, "surrogateescape")


async def parse_despite_undecodable_headers(records: tuple[ConsumerRecord, ...], parse) -> KafkaMessage:
    """FastStream decodes every header value as UTF-8 (and fails on a null one) before any
    handler runs, so a batch with a record whose header is not would fail there and never reach
    the consumer. Parse copies without such values and hand on the original records: on_batch
    judges each record's headers and dead-letters the broken ones."""
    try:
        return await parse(records)
    except (UnicodeDecodeError, AttributeError):
        message = await parse(tuple(
            dataclasses.replace(record, headers=[(name, value) for name, value in record.headers if _is_utf8(value)])
            for record in records
        ))
        message.raw_message = records
        return message


def _is_utf8(value: bytes | None) -> bool:
    if value is None:
        return False
    try:
        value.decode()
        return True
    except UnicodeDecodeError:
        return False


def readable_envelope(record: ConsumerRecord) -> Envelope | None:
    """The envelope of a record whose headers are not all UTF-8, read leniently, so its sender
    can still be answered; None when even that is no valid envelope."""
    try:
        return Envelope.from_headers(readable_headers(record.headers))
    except InvalidEnvelope:
        return None
