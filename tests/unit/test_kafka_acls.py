"""The broker's ACLs as deploy/provision_kafka.py derives them from contracts/topics.py, and the
contracts' table against what each service really consumes."""

import hashlib
import importlib
import re
import sys
from pathlib import Path

import pytest

from contracts import topics

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy"))
import provision_kafka as plan  # noqa: E402

R, W, D = plan.READ, plan.WRITE, plan.DESCRIBE


def allowed(acls, principal: str, operation: int, topic: str) -> bool:
    """Whether the ACLs let `principal` do `operation` on `topic`, as the broker matches them."""
    for acl in acls:
        if acl.principal != principal or acl.resource_type != plan.TOPIC or acl.operation != operation:
            continue
        if acl.pattern == plan.LITERAL and acl.resource_name == topic:
            return True
        if acl.pattern == plan.PREFIXED and topic.startswith(acl.resource_name):
            return True
    return False


def writable(acls, principal: str) -> set[str]:
    every = set(topics.all_with_dead_letters()) | set(topics.integrator_topics("acme")) | set(topics.integrator_topics("zeta"))
    return {t for t in every if allowed(acls, principal, W, t)}


def readable(acls, principal: str) -> set[str]:
    every = set(topics.all_with_dead_letters()) | set(topics.integrator_topics("acme"))
    return {t for t in every if allowed(acls, principal, R, t)}


@pytest.fixture(scope="module")
def acls():
    return plan.platform_acls() + plan.integrator_acls("acme") + plan.integrator_acls("zeta")


def test_each_events_topic_is_written_by_its_service_alone(acls):
    owners = {"invoices": topics.INVOICES_EVENTS, "numbering": topics.NUMBERING_EVENTS,
              "payments": topics.PAYMENTS_EVENTS, "mailer": topics.MAIL_EVENTS}
    principals = [*topics.SERVICES, "operators", "integrator.acme"]
    for service, events in owners.items():
        assert [p for p in principals if allowed(acls, p, W, events)] == [service]


def test_what_each_service_may_write(acls):
    assert writable(acls, "invoices") == {
        "invoices.events", "accounts.events", "invoices.commands", "numbering.commands", "mail.commands",
        "invoices.commands.dlq", "numbering.events.dlq", "payments.events.dlq", "mail.events.dlq",
        "api_keys.events.dlq", "access.events.dlq"}
    assert writable(acls, "numbering") == {
        "numbering.events", "numbering.commands.dlq", "invoices.events.dlq", "api_keys.events.dlq"}
    assert writable(acls, "payments") == {
        "payments.events", "payments.transactions.dlq", "payments.commands.dlq", "invoices.events.dlq",
        "accounts.events.dlq", "api_keys.events.dlq", "access.events.dlq"}
    assert writable(acls, "mailer") == {"mail.events", "mail.commands.dlq", "accounts.events.dlq"}


def test_services_read_what_they_consume_and_integrators_copies(acls):
    assert readable(acls, "mailer") == {"mail.commands", "accounts.events"}
    assert readable(acls, "numbering") == {"numbering.commands", "invoices.events", "api_keys.events"}
    assert readable(acls, "invoices") >= {"invoices.commands", "invoices.commands.from.acme"}
    assert "payments.commands.from.acme" not in readable(acls, "invoices")
    assert readable(acls, "payments") >= {"payments.commands.from.acme", "payments.transactions.from.acme"}
    assert "invoices.commands.from.acme" not in readable(acls, "payments")
    # Nobody but the super user reads dead letters it did not write, and no service reads another's commands.
    assert not any(t.endswith(".dlq") for s in topics.SERVICES for t in readable(acls, s))


def test_each_service_owns_its_consumer_group(acls):
    groups = {(a.principal, a.resource_name, a.pattern, a.operation) for a in acls if a.resource_type == plan.GROUP}
    assert groups == {(s, s, plan.LITERAL, R) for s in topics.SERVICES}


def test_operators_send_every_command_and_keys_but_no_service_events(acls):
    assert writable(acls, "operators") == {
        "invoices.commands", "numbering.commands", "payments.transactions", "payments.commands",
        "mail.commands", "api_keys.events", "access.events"}
    assert readable(acls, "operators") == set(topics.all_with_dead_letters()) | set(topics.integrator_topics("acme"))


def test_an_integrator_writes_its_own_three_topics_and_reads_nothing(acls):
    assert writable(acls, "integrator.acme") == set(topics.integrator_topics("acme"))
    assert readable(acls, "integrator.acme") == set()
    assert not [a for a in acls if a.principal == "integrator.acme" and a.resource_type != plan.TOPIC]


def test_an_integrator_serving_every_account_may_read_the_events():
    acls = plan.integrator_acls("all", read_events=True)
    assert readable(acls, "integrator.all") == set(plan.EVENTS_TOPICS)
    assert {a.resource_name for a in acls if a.operation == W} == set(topics.integrator_topics("all"))
    assert [(a.resource_name, a.pattern) for a in acls if a.resource_type == plan.GROUP] == [("integrator.all", plan.PREFIXED)]


def test_no_acl_denies_or_names_a_host_or_the_cluster(acls):
    assert {a.resource_type for a in acls} == {plan.TOPIC, plan.GROUP}
    assert {a.operation for a in acls} == {R, W, D}


def test_the_scram_request_encodes_as_kafka_expects():
    request = plan.AlterUserScramCredentials({"u": "pw"}).build(plan.AlterUserScramCredentialsRequest_v0)
    wire = request.encode()
    # deletions: empty compact array (1); upsertions: one (2), name "u" (2, "u"), mechanism 2 (SHA-512),
    # iterations 8192, then the 64-byte salt (65) and the 64-byte salted password (65).
    assert wire[:5] == bytes([1, 2, 2]) + b"u" + bytes([plan.SCRAM_SHA_512])
    assert int.from_bytes(wire[5:9], "big") == plan.SCRAM_ITERATIONS
    assert wire[9] == 65 and wire[9 + 65] == 65
    salt, salted = wire[10:74], wire[75:139]
    assert salted == hashlib.pbkdf2_hmac("sha512", b"pw", salt, 8192)
    assert wire[139:] == bytes([0, 0])  # the upsertion's and the request's empty tagged fields


# --- the table against the services' real consumers ---------------------------------------------------

def consumed_by(app) -> set[str]:
    """The platform topics a service's consumer subscribes to (its pattern names integrators' copies too)."""
    return {topic for subscriber in app.broker.subscribers for topic in topics.ALL
            if re.fullmatch(subscriber.pattern.broker_address, topic)}


@pytest.mark.parametrize("service", sorted(topics.SERVICES))
def test_each_service_reads_what_its_consumer_consumes(service):
    consumed = consumed_by(importlib.import_module(f"services.{service}.app").create_app())
    assert consumed == set(topics.SERVICES[service].reads)


@pytest.mark.parametrize("service", sorted(topics.SERVICES))
def test_each_service_may_write_what_it_publishes(service):
    app = importlib.import_module(f"services.{service}.app").create_app()
    published = {publisher.topic for publisher in app.broker.publishers}
    writes = set(topics.SERVICES[service].writes)
    assert published == writes
