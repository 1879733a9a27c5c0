"""What a consumer refuses before or while it parses a record, and how: every fault is an
UndecodableMessage with its reason, never another exception."""

import json
from pathlib import Path

import pytest
from aiokafka.record import memory_records
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy
from pydantic import BaseModel, field_validator

from chassis import unreadable
from chassis.messaging import UndecodableMessage, check_size, decode_data, decode_headers, readable_headers
from chassis.metrics import type_label
from contracts.envelope import Envelope
from contracts.limits import MAX_INTEGER_DIGITS, MAX_JSON_DEPTH, MAX_RECORD_BYTES
from contracts.messages import REGISTRY
from contracts.messages.bounds import MAX_LINES
from contracts.messages.common import LineItem, PricedLine
from contracts.messages.invoices import FinalizeInvoice

REPO = Path(__file__).resolve().parents[2]


def envelope(type_name: str = FinalizeInvoice.type_name) -> Envelope:
    return Envelope.originate(source="tests", type=type_name, subject="inv_1", accountid="acct_1", actor="user:ann")


def reason_of(body: bytes, model=FinalizeInvoice) -> str:
    with pytest.raises(UndecodableMessage) as refused:
        decode_data(envelope(model.type_name), model, body)
    return refused.value.reason


def nested(depth: int) -> bytes:
    return b'{"invoice_id": "inv_1", "x": ' + b"[" * depth + b"]" * depth + b"}"


def test_a_valid_record_is_decoded():
    assert decode_data(envelope(), FinalizeInvoice, b'{"invoice_id": "inv_1"}') == FinalizeInvoice(invoice_id="inv_1")


def test_nesting_beyond_the_limit_is_too_deep_and_stops_the_parser_early():
    assert reason_of(nested(100_000)) == "too_deep"
    assert reason_of(b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1)) == "too_deep"
    # Within the limit the JSON is read, and judged by the schema (no field "x").
    assert reason_of(nested(MAX_JSON_DEPTH - 2)) == "invalid_data"


def test_an_integer_beyond_the_limit_is_too_large_a_number():
    assert reason_of(b'{"invoice_id": "inv_1", "x": ' + b"7" * 5000 + b"}") == "number_too_large"
    assert reason_of(b'{"invoice_id": "inv_1", "x": -' + b"7" * (MAX_INTEGER_DIGITS + 1) + b"}") == "number_too_large"
    assert reason_of(b'{"invoice_id": "inv_1", "x": ' + b"7" * MAX_INTEGER_DIGITS + b"}") == "invalid_data"


@pytest.mark.parametrize("body", [b"not json", b'{"invoice_id": "inv_\xff"}', b'{"invoice_id": NaN}', b"",
                                  b'{"invoice_id": "inv_1"} trailing', b"\xef\xbb\xbf\x00"])
def test_what_is_no_json_document_is_invalid_json(body):
    assert reason_of(body) == "invalid_json"


def test_a_missing_value_is_invalid_json():
    assert reason_of(None) == "invalid_json"


class ExplodingFinalize(FinalizeInvoice):
    @field_validator("invoice_id")
    @classmethod
    def _explode(cls, value):
        raise OverflowError("date value out of range")


def test_whatever_a_validator_raises_is_invalid_data():
    assert reason_of(b'{"invoice_id": "inv_1"}', ExplodingFinalize) == "invalid_data"


def test_a_record_is_too_large_beyond_the_limit_over_key_value_and_headers():
    headers = [("ce_id", b"x" * 100)]
    check_size(b"k", b"v" * (MAX_RECORD_BYTES - 1 - 105), headers)
    with pytest.raises(UndecodableMessage) as refused:
        check_size(b"k", b"v" * (MAX_RECORD_BYTES - 105), headers)
    assert refused.value.reason == "too_large"


# Four bytes in UTF-8 each: the longest a text of a given length can be.
WIDE = "\U0001f9fe"
ALLOWED_HEADER_BYTES = 4096  # ten ce_* attributes of at most 200 characters, and their names


def _full(length: int) -> str:
    return WIDE * length


def _largest_lines(model: type[BaseModel]) -> list[dict]:
    line = {"description": _full(500), "quantity": "9999.9999", "unit_amount": -(10**8), "tax_rate": "99.9999"}
    if "amount" in model.model_fields:
        line |= {"amount": -999999990000, "tax_amount": -999998990000}
    return [line] * MAX_LINES


def _largest_document(example: dict) -> dict:
    customer = {"name": _full(200), "email": ["a@example.com"] * 3, "cc": ["c@example.com"] * 9,
                "address": {"line1": _full(500), "line2": _full(500), "postal_code": "9" * 20, "city": _full(500),
                            "country": "DE"}, "tax_id": "X" * 50, "language": "de"}
    return example | {"customer": customer, "lines": _largest_lines(PricedLine), "memo": _full(2000)}


def _largest_invoice(example: dict) -> dict:
    return _largest_document(example) | {"metadata": {f"{i:02d}{_full(38)}": _full(500) for i in range(50)}}


def _carries_line_items(model: type[BaseModel]) -> bool:
    return "lines" in model.model_fields and model.model_fields["lines"].annotation == list[LineItem]


@pytest.mark.parametrize("type_name", sorted(t for t, m in REGISTRY.items()
                                             if {"invoice", "credit_note"} & m.model_fields.keys()
                                             or _carries_line_items(m)))
def test_the_largest_valid_message_that_carries_an_invoice_fits_a_record(type_name):
    """Every record the platform publishes fits MAX_RECORD_BYTES (the producer's limit): with its
    most lines, every text at its longest in four-byte characters."""
    model = REGISTRY[type_name]
    data = json.loads((REPO / "contracts" / "examples" / f"{type_name}.json").read_text())
    if "invoice" in model.model_fields:
        data["invoice"] = _largest_invoice(data["invoice"])
    if "credit_note" in model.model_fields:
        data["credit_note"] = _largest_document(data["credit_note"])
    if _carries_line_items(model):
        data["lines"] = _largest_lines(LineItem)
    body = model.model_validate(data).model_dump_json().encode()
    assert len(body) + ALLOWED_HEADER_BYTES < MAX_RECORD_BYTES, len(body)


def test_a_header_name_that_is_not_utf8_is_an_invalid_header_and_shown_escaped():
    # As chassis.unreadable hands it on: the undecodable bytes as surrogate escapes.
    raw = [("ce_id", b"1"), (b"ce_\xff\xfe".decode(errors="surrogateescape"), b"y")]
    with pytest.raises(UndecodableMessage) as refused:
        decode_headers(raw)
    assert refused.value.reason == "invalid_header"
    assert "ce_\\\\xff\\\\xfe" in refused.value.detail
    assert readable_headers(raw) == {"ce_id": "1", "ce_\\xff\\xfe": "y"}


def test_only_registered_type_names_become_label_values():
    assert type_label("invoice.create") == "invoice.create"
    assert type_label("invoice.create\n" + "x" * 100) == "unknown"
    assert type_label(None) == "unknown"


class RawName(str):
    """A header name that encodes to bytes that are not UTF-8, which aiokafka's pure-Python
    builder writes as they are (Kafka clients refuse to send such names)."""

    def encode(self, *args, **kwargs):
        return b"ce_\xff\xfe"


def fetched(compression: int) -> bytes:
    """What a fetch returns for a partition: two producer batches, the first with a record whose
    header name is not UTF-8 between two valid ones."""
    data = b""
    for base in (0, 3):
        builder = _DefaultRecordBatchBuilderPy(magic=2, compression_type=compression, is_transactional=False,
                                               producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                               batch_size=1 << 20)
        for delta in range(3):
            name = RawName("x") if base == 0 and delta == 1 else "ce_id"
            builder.append(delta, timestamp=None, key=b"k%d" % delta, value=b"v%d" % (base + delta),
                           headers=[(name, b"h")])
        batch = bytearray(builder.build())
        batch[0:8] = base.to_bytes(8, "big")
        data += bytes(batch)
    return data


def read_all(data: bytes) -> list:
    records = unreadable._TolerantRecords(data)
    read = []
    while records.has_next():
        batch = records.next_batch()
        assert batch.validate_crc()
        read.extend(batch)
    return read


@pytest.mark.parametrize("compression", [0, 1])  # none, gzip
@pytest.mark.parametrize("reader", ["C extension", "pure Python"])
def test_a_header_name_that_is_not_utf8_takes_no_neighbour_with_it(compression, reader, monkeypatch):
    if reader == "pure Python":
        monkeypatch.setattr(unreadable, "MemoryRecords", memory_records._MemoryRecordsPy)
    with pytest.raises((UnicodeDecodeError, ValueError)):
        list(memory_records.MemoryRecords(fetched(compression)).next_batch())
    read = read_all(fetched(compression))
    assert [(r.offset, r.key, r.value) for r in read] == [(i, b"k%d" % (i % 3), b"v%d" % i) for i in range(6)]
    assert read[1].headers == [(b"ce_\xff\xfe".decode(errors="surrogateescape"), b"h")]
    assert all(r.headers == [("ce_id", b"h")] for r in read if r.offset != 1)


class NotedFinalize(FinalizeInvoice):
    note: str = ""


def test_nan_and_infinity_are_no_json_but_fine_in_a_text():
    assert reason_of(b'{"invoice_id": "inv_1", "note": "x", "x": -Infinity}', NotedFinalize) == "invalid_json"
    body = b'{"invoice_id": "inv_1", "note": "NaN or Infinity"}'
    assert decode_data(envelope(), NotedFinalize, body).note == "NaN or Infinity"
