import json
import uuid

import pytest

from chassis.messaging import (
    UndecodableMessage,
    decode_data,
    decode_envelope,
    decode_headers,
    model_on_topic,
    readable_headers,
)
from contracts import topics
from contracts.envelope import Envelope, InvalidEnvelope
from contracts.messages.invoices import FinalizeInvoice, SendInvoice


def command_envelope() -> Envelope:
    return Envelope.originate(source="tests", type="invoice.finalize", subject="inv_1", accountid="acct_1", actor="user:ann")


def test_headers_round_trip_in_the_binary_binding():
    envelope = command_envelope()
    headers = envelope.to_headers()
    assert headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/json"
    assert {"ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_accountid", "ce_correlationid", "ce_actor"} <= set(headers)
    assert Envelope.from_headers(headers) == envelope


@pytest.mark.parametrize("missing", ["ce_id", "ce_type", "ce_accountid", "ce_actor", "ce_subject"])
def test_a_missing_attribute_is_an_invalid_envelope(missing):
    headers = command_envelope().to_headers()
    del headers[missing]
    with pytest.raises(InvalidEnvelope, match=missing.removeprefix("ce_")):
        Envelope.from_headers(headers)


def test_other_spec_versions_and_content_types_are_refused():
    headers = command_envelope().to_headers()
    with pytest.raises(InvalidEnvelope, match="specversion"):
        Envelope.from_headers({**headers, "ce_specversion": "0.3"})
    with pytest.raises(InvalidEnvelope, match="content-type"):
        Envelope.from_headers({**headers, "content-type": "application/avro"})


def test_caused_events_stay_in_the_flow_and_have_deterministic_ids():
    command = command_envelope()
    first = command.caused(source="invoices", type="number.allocate", subject="acct_1/INV", index=0)
    again = command.caused(source="invoices", type="number.allocate", subject="acct_1/INV", index=0)
    second = command.caused(source="invoices", type="number.allocate", subject="acct_1/INV", index=1)
    assert first.id == again.id != second.id
    assert first.correlationid == command.correlationid == str(command.id)
    assert first.causationid == str(command.id)
    assert (first.accountid, first.actor) == ("acct_1", "user:ann")


def test_decoding_names_the_reason_for_each_kind_of_bad_record():
    with pytest.raises(UndecodableMessage) as error:
        decode_headers([("ce_id", b"1"), ("ce_actor", b"user:\xff\xfe\xfd")])
    assert error.value.reason == "invalid_header"
    assert "ce_actor" in error.value.detail
    assert readable_headers([("ce_actor", b"user:\xff")]) == {"ce_actor": "user:\\xff"}

    with pytest.raises(UndecodableMessage) as error:
        decode_envelope({})
    assert error.value.reason == "invalid_envelope"

    unknown = Envelope.originate(source="t", type="invoice.explode", subject="x", accountid="a", actor="u")
    with pytest.raises(UndecodableMessage) as error:
        model_on_topic(unknown, topics.INVOICES_COMMANDS)
    assert error.value.reason == "unknown_type"

    envelope = command_envelope()
    with pytest.raises(UndecodableMessage) as error:
        model_on_topic(envelope, topics.PAYMENTS_COMMANDS)
    assert error.value.reason == "wrong_topic"
    assert "invoices.commands" in error.value.detail
    model = model_on_topic(envelope, topics.INVOICES_COMMANDS)

    for body, reason in [(b"\xff", "invalid_json"), (b'{"invoice_id": "bad id"}', "invalid_data"),
                         (b'{"invoice_id": "inv_2"}', "subject_mismatch")]:
        with pytest.raises(UndecodableMessage) as error:
            decode_data(envelope, model, body)
        assert error.value.reason == reason

    assert decode_data(envelope, model, b'{"invoice_id": "inv_1"}') == FinalizeInvoice(invoice_id="inv_1")


def test_a_validator_that_names_a_rule_gives_its_reason_code():
    envelope = Envelope.originate(source="t", type="invoice.send", subject="inv_1", accountid="a", actor="u")
    body = json.dumps({"invoice_id": "inv_1", "to": [f"p{i}@example.com" for i in range(4)]}).encode()
    with pytest.raises(UndecodableMessage) as error:
        decode_data(envelope, SendInvoice, body)
    assert error.value.reason == "too_many_recipients"
    assert "at most 3" in error.value.detail


def test_ids_are_uuids():
    assert isinstance(command_envelope().id, uuid.UUID)


@pytest.mark.parametrize("address", ["jörg@globex.example", "not-an-address"])
def test_an_address_the_mailer_cannot_write_is_refused_as_invalid_data(address):
    envelope = Envelope.originate(source="t", type="invoice.send", subject="inv_1", accountid="a", actor="u")
    body = json.dumps({"invoice_id": "inv_1", "to": [address]}).encode()
    with pytest.raises(UndecodableMessage) as error:
        decode_data(envelope, SendInvoice, body)
    assert error.value.reason == "invalid_data"
    assert "not a valid email address" in error.value.detail


def test_a_domain_outside_ascii_is_accepted():
    envelope = Envelope.originate(source="t", type="invoice.send", subject="inv_1", accountid="a", actor="u")
    body = json.dumps({"invoice_id": "inv_1", "to": ["ap@zürich.example"]}).encode()
    assert decode_data(envelope, SendInvoice, body).to == ["ap@zürich.example"]


def test_a_message_that_starts_a_flow_is_caused_by_itself():
    envelope = command_envelope()
    assert envelope.causationid == str(envelope.id) == envelope.correlationid
    assert Envelope.from_headers(envelope.to_headers()).causationid == str(envelope.id)


def test_a_message_named_by_its_sender_keeps_the_name_as_its_cause():
    message_id = uuid.uuid4()
    envelope = Envelope.originate(id=message_id, correlationid="run_1", source="cli", type="invoice.send",
                                  subject="inv_1", accountid="acct_1", actor="user:ann")
    assert (envelope.id, envelope.causationid, envelope.correlationid) == (message_id, str(message_id), "run_1")
