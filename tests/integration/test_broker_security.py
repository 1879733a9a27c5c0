"""The broker's own word, from outside: who may log in, and who may write and read which topic.

Against the test stack's broker (SASL_PLAINTEXT with SCRAM-SHA-512, StandardAuthorizer, no access
without an ACL), with the principals deploy/provision_kafka.py made. No service needs to run: the
broker refuses before any consumer sees a record. The records these tests do get written go to
integrators' topics, as commands for a fresh account that no integrator is allowed.
"""

import asyncio
import os
import stat
import subprocess
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from chassis.kafka_errors import explain
from chassis.settings import KafkaSettings
from contracts import topics
from contracts.envelope import Envelope
from tests.integration.factories import create_invoice
from tests.integration.harness import REPO, env, kafka_options, kafka_settings

SCRAM = {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512"}


async def produce(topic: str, options: dict, body: bytes = b"{}", key: bytes = b"k", headers=()) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=env("KAFKA_BOOTSTRAP_SERVERS"), request_timeout_ms=10000,
                                acks="all", enable_idempotence=True, **options)
    try:
        await producer.start()
        await producer.send_and_wait(topic, body, key=key, headers=list(headers))
    finally:
        await producer.stop()


async def read(topic: str, options: dict) -> None:
    """Fetch from the start of partition 0, without a consumer group. A topic the principal may not even
    describe is refused in the metadata answer (a consumer would wait for it forever, seeing nothing);
    one it may describe but not read, in the fetch answer."""
    consumer = AIOKafkaConsumer(bootstrap_servers=env("KAFKA_BOOTSTRAP_SERVERS"), enable_auto_commit=False,
                                request_timeout_ms=10000, **options)
    await consumer.start()
    try:
        await consumer._client._wait_on_metadata(topic)
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.seek_to_beginning()
        await consumer.getmany(timeout_ms=3000)
    finally:
        await consumer.stop()


def refused_login(**options) -> str:
    """What the client sees (it cannot bootstrap) and what chassis.kafka_errors says about it."""
    settings = KafkaSettings(kafka_bootstrap_servers=env("KAFKA_BOOTSTRAP_SERVERS"), **options)

    async def attempt() -> str:
        with pytest.raises(KafkaConnectionError) as refused:
            await produce(topics.INVOICES_COMMANDS, settings.aiokafka_options())
        return await explain(refused.value, settings)

    return asyncio.run(attempt())


def test_no_credentials_are_refused():
    reason = refused_login(kafka_security_protocol="PLAINTEXT")
    assert "asks for credentials" in reason


def test_a_wrong_password_is_refused():
    reason = refused_login(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="operators",
                           kafka_sasl_password="not-the-password", kafka_sasl_password_file="")
    assert "refused the login as operators" in reason and "invalid credentials" in reason


def test_an_unknown_user_is_refused():
    reason = refused_login(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_username="intruder",
                           kafka_sasl_password="x", kafka_sasl_password_file="")
    assert "refused the login as intruder" in reason


def test_plain_is_not_accepted_on_the_client_listener():
    settings = kafka_settings("operators")
    reason = refused_login(kafka_security_protocol="SASL_PLAINTEXT", kafka_sasl_mechanism="PLAIN",
                           kafka_sasl_username="operators", kafka_sasl_password=settings.sasl_password(),
                           kafka_sasl_password_file="")
    assert "refused the login" in reason and "UnsupportedSaslMechanism" in reason


@pytest.mark.parametrize(("principal", "topic"), [
    ("mailer", topics.PAYMENTS_EVENTS),
    ("payments", topics.INVOICES_EVENTS),
    ("numbering", topics.API_KEYS_EVENTS),
    ("numbering", topics.INVOICES_EVENTS),
    ("invoices", topics.PAYMENTS_EVENTS),
    ("mailer", topics.INVOICES_COMMANDS),
    ("operators", topics.INVOICES_EVENTS),
    ("operators", topics.PAYMENTS_EVENTS),
    ("operators", topics.dead_letter_topic(topics.INVOICES_COMMANDS)),
    ("integrator.test", topics.INVOICES_COMMANDS),
    ("integrator.test", topics.PAYMENTS_TRANSACTIONS),
    ("integrator.test", topics.integrator_topic(topics.INVOICES_COMMANDS, "other")),
    ("integrator.test", topics.API_KEYS_EVENTS),
    ("integrator.test", topics.ACCESS_EVENTS),
])
async def test_a_principal_cannot_write_a_topic_that_is_not_its_own(principal, topic):
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(topic, kafka_options(principal))


@pytest.mark.parametrize(("principal", "topic"), [
    ("integrator.test", topics.INVOICES_EVENTS),
    ("integrator.test", topics.PAYMENTS_EVENTS),
    ("integrator.test", topics.integrator_topic(topics.INVOICES_COMMANDS, "test")),
    ("integrator.test", topics.integrator_topic(topics.INVOICES_COMMANDS, "other")),
    ("mailer", topics.INVOICES_EVENTS),
    ("numbering", topics.PAYMENTS_TRANSACTIONS),
    ("payments", topics.INVOICES_COMMANDS),
])
async def test_a_principal_cannot_read_a_topic_it_does_not_consume(principal, topic):
    with pytest.raises(TopicAuthorizationFailedError):
        await read(topic, kafka_options(principal))


async def test_an_integrator_writes_its_own_three_topics():
    account_id = f"acct_{uuid.uuid4().hex[:12]}"  # granted to no integrator: no effect once delivered
    for topic in topics.integrator_topics("test"):
        data = create_invoice(f"inv_{uuid.uuid4().hex[:10]}")
        envelope = Envelope.originate(source="tests", type=data.type_name, subject=data.aggregate_id(),
                                      accountid=account_id, actor="integrator:test")
        await produce(topic, kafka_options("integrator.test"), data.model_dump_json().encode(),
                      key=envelope.subject.encode(),
                      headers=[(k, v.encode()) for k, v in envelope.to_headers().items()])


async def test_services_and_operators_read_what_they_consume():
    await read(topics.INVOICES_EVENTS, kafka_options("payments"))
    await read(topics.integrator_topic(topics.INVOICES_COMMANDS, "test"), kafka_options("invoices"))
    await read(topics.integrator_topic(topics.PAYMENTS_TRANSACTIONS, "other"), kafka_options("payments"))
    await read(topics.dead_letter_topic(topics.MAIL_COMMANDS), kafka_options("operators"))


async def test_a_refused_write_is_explained():
    with pytest.raises(TopicAuthorizationFailedError) as refused:
        await produce(topics.PAYMENTS_EVENTS, kafka_options("mailer"))
    reason = await explain(refused.value, kafka_settings("mailer"))
    assert "does not allow this as mailer" in reason and "payments.events" in reason


async def test_an_operator_registers_an_integrator_with_one_command():
    name = "registered"  # registering again is a no-op: every run of the test stack keeps one of it
    done = subprocess.run([str(REPO / "deploy" / "stack.sh"), "integrator", name], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "STACK_NAME": "test"})
    assert done.returncode == 0, done.stderr
    password = Path(env("KAFKA_CREDENTIALS_DIR")) / f"integrator.{name}.password"
    assert f"password in {password}" in done.stdout
    assert stat.S_IMODE(password.stat().st_mode) == 0o600
    assert stat.S_IMODE(password.parent.stat().st_mode) == 0o700
    options = kafka_options(f"integrator.{name}")
    await produce(topics.integrator_topic(topics.PAYMENTS_COMMANDS, name), options)
    with pytest.raises(TopicAuthorizationFailedError):
        await produce(topics.integrator_topic(topics.PAYMENTS_COMMANDS, "test"), options)
    with pytest.raises(TopicAuthorizationFailedError):
        await read(topics.INVOICES_EVENTS, options)
