"""What the trust checks cost per consumed record, on one core, with no stack.

    .venv/bin/python -m bench.trust [--records 30000]     (needs no stack; `make bench-trust` starts one anyway)

Before a handler runs, the consumer reads the record's origin from its topic (cached per topic),
asks the grants whether that origin may act for the envelope's account, compares the accounts the
data names with the envelope's, and keys the inbox by (group, message id, origin, account). This
times those steps alone on a mix of records (invoice.created with its snapshot from the platform,
invoice.create from an integrator, api_key.created), next to the decoding the consumer did
before them (headers, CloudEvents envelope, pydantic validation of the data), and next to whole
batches of 100 through Consumer.on_batch (the in-memory store, handlers that do nothing). A record
costs a service about 1 ms of CPU in all on the stack (docs/design.md, "Performance"). Prints
microseconds of CPU per record (process time: the machine may be busy); asserts nothing.
"""

import argparse
import asyncio
import time

from chassis.consumer import _origin
from chassis.messaging import decode_data, decode_envelope, decode_headers, foreign_account, model_on_topic
from contracts import topics
from contracts.example_data import examples
from contracts.messages.invoices import CreateInvoice, InvoiceCreated
from tests.unit.test_trust import Harness, granted


def records(harness: Harness, count: int) -> list:
    samples = examples()
    crm = topics.integrator_topic(topics.INVOICES_COMMANDS, "crm")
    kinds = [
        (samples["invoice.created"], None),
        (samples["invoice.create"], crm),
        (samples["api_key.created"], None),
    ]
    return [harness.record(kinds[i % 3][0], account="acct_acme", topic=kinds[i % 3][1]) for i in range(count)]


def per_record(seconds: float, count: int) -> str:
    return f"{seconds / count * 1e6:7.2f} µs/record"


def time_decoding(batch: list) -> float:
    started = time.process_time()
    for record, body in batch:
        envelope = decode_envelope(decode_headers(record.headers))
        decode_data(envelope, model_on_topic(envelope, _origin(record.topic).topic), body)
    return time.process_time() - started


def time_checks(harness: Harness, batch: list) -> float:
    """The steps the consumer adds, as it runs them: in _decode the origin, the foreign account
    and the inbox key; in _handle the refusal (the grant, and the foreign account's verdict)."""
    consumer = harness.consumer
    decoded = [consumer._decode(record, body) for record, body in batch]
    started = time.process_time()
    for item in decoded:
        envelope = item.envelope
        origin = _origin(item.record.topic)
        foreign_account(item.data, envelope.accountid)
        consumer.inbox.key(envelope.id, origin, envelope.accountid)
        consumer._refusal(item)
    return time.process_time() - started


async def time_batches(harness: Harness, batch: list) -> float:
    started = time.process_time()
    for start in range(0, len(batch), 100):
        await harness.batch(*batch[start:start + 100])
    return time.process_time() - started


async def main(count: int) -> None:
    harness = Harness()
    for model in (InvoiceCreated, CreateInvoice):
        harness.consumer.handles(model)(harness._handler)
    await harness.batch(harness.record(granted("crm", "acct_acme"), account="acct_acme"))
    warm = records(harness, 300)
    time_decoding(warm), time_checks(harness, warm)
    await time_batches(harness, warm)
    batch = records(harness, count)
    checks = time_checks(harness, batch)
    decoding = time_decoding(batch)
    origin_uncached = time.process_time()
    for record, _ in batch:
        topics.origin_of(record.topic)
    origin_uncached = time.process_time() - origin_uncached
    consumed = await time_batches(harness, batch)
    print(f"{count} records, a third each: invoice.created (platform), invoice.create (integrator), api_key.created")
    print(f"trust checks (origin, grant, data's account, inbox key): {per_record(checks, count)}")
    print(f"  origin_of without the per-topic cache:                   {per_record(origin_uncached, count)}")
    print(f"decoding before them (headers, envelope, data):           {per_record(decoding, count)}")
    print(f"Consumer.on_batch, batches of 100, in-memory store:        {per_record(consumed, count)}")
    print(f"checks / on_batch: {checks / consumed:.1%}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=30000)
    asyncio.run(main(parser.parse_args().records))
