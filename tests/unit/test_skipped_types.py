"""A record of a type that travels on its topic and that the service does not act on is skipped
from its `ce_type` header, before anything of it is read; any other type is read whole, and
dead-lettered when it is no valid message."""

from contracts.envelope import Envelope
from contracts.messages import REGISTRY
from contracts.topics import INTEGRATOR_WRITABLE, INVOICES_EVENTS, integrator_topic
from tests.unit.harness import Platform, Record

NOT_JSON = b"\xff not json"


def record(type_name: str, body: bytes = NOT_JSON) -> Record:
    envelope = Envelope.originate(source="tests", type=type_name, subject="inv_1", accountid="acct", actor="user:t")
    return Record(INVOICES_EVENTS, b"inv_1", envelope.to_headers(), body)


def counted(platform: Platform, type_name: str, outcome: str) -> float:
    return platform.numbering.consumer.metrics.consumed.labels(INVOICES_EVENTS, type_name, outcome)._value.get()


async def test_a_type_of_the_topic_the_service_does_not_handle_is_skipped_unread():
    platform = Platform("numbering")  # numbering reads invoices.events for invoice.deleted only
    assert await platform.numbering.take(record("invoice.finalized"), offset=0)
    assert platform.dead_letters == []
    assert counted(platform, "invoice.finalized", "ignored") == 1


async def test_a_handled_type_that_is_no_valid_message_is_dead_lettered():
    platform = Platform("numbering")
    assert await platform.numbering.take(record("invoice.deleted"), offset=0)
    [letter] = platform.dead_letters
    assert letter.headers["dlq_reason"] == "invalid_json"


async def test_an_unknown_type_or_one_of_another_topic_is_read_whole_and_dead_lettered():
    platform = Platform("numbering")
    for offset, type_name in enumerate(["invoice.exploded", "invoice.finalize"]):  # the latter: a command
        assert await platform.numbering.take(record(type_name, b'{"invoice_id": "inv_1"}'), offset=offset)
    assert [letter.headers["dlq_reason"] for letter in platform.dead_letters] == ["unknown_type", "wrong_topic"]
    assert counted(platform, "invoice.finalize", "ignored") == 0


async def test_no_type_an_integrator_may_write_is_skipped_unread():
    # Skipping leaves a broken record to the services that handle its type: on the topics
    # integrators write, the service reading them must handle every type, or a forged record
    # would vanish without a dead letter.
    platform = Platform()
    for topic in INTEGRATOR_WRITABLE:
        readers = [service for service in platform.services.values() if service.reads(integrator_topic(topic, "acme"))]
        assert readers, topic
        for offset, type_name in enumerate(sorted(name for name, model in REGISTRY.items() if model.topic == topic)):
            envelope = Envelope.originate(source="acme", type=type_name, subject="x_1", accountid="acct", actor="user:t")
            before = len(platform.dead_letters)
            for service in readers:
                await service.take(Record(integrator_topic(topic, "acme"), b"x_1", envelope.to_headers(), NOT_JSON),
                                   offset=offset)
            assert len(platform.dead_letters) == before + len(readers), type_name
