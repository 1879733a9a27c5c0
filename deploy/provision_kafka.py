"""Provision the local Kafka from contracts/topics.py, idempotently: topics, SCRAM users and ACLs.

Run by deploy/stack.sh (and deploy/integrator.sh) as `.venv/bin/python deploy/provision_kafka.py` with
PYTHONPATH=<repo root> and the stack's env. It connects as the `admin` super user, whose password
deploy/stack.sh wrote to $KAFKA_CREDENTIALS_DIR/admin.password before formatting the broker's storage.

    (no argument)            every platform topic, every principal's user and its ACLs, and the
                             integrators already registered (and those of $KAFKA_INTEGRATORS)
    --check                  only verify that the broker answers a metadata request as admin (health check)
    integrator NAME [--read-events]
                             register the integrator NAME: its user `integrator.NAME`, its own topics
                             (contracts.topics.integrator_topics) and WRITE on exactly those; with
                             --read-events also READ on the events topics (they carry every account's
                             events: only for an integrator that serves all accounts)

Passwords are random (secrets.token_urlsafe), made on first use in $KAFKA_CREDENTIALS_DIR/<principal>.password
(mode 600, the directory 700) and reused; delete one file and provision again to rotate that password.
With KAFKA_PASSWORDS_FROM_ENV=1 (docker-compose.yml's kafka-init) each comes from KAFKA_<PRINCIPAL>_PASSWORD
instead (KAFKA_INVOICES_PASSWORD, KAFKA_INTEGRATOR_ACME_PASSWORD, ...), and no file is written.
The broker runs with auto.create.topics.enable=false, so this is the only place topics come from.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import CreateAclsRequest_v1, DescribeAclsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from chassis.settings import KafkaSettings
from contracts import topics
from contracts.topics import COMPACTED, INTEGRATOR_WRITABLE, OPERATORS, SERVICES, Grants, dead_letter_topic

PARTITIONS = 3
REPLICATION_FACTOR = 1
TOPIC_ALREADY_EXISTS = 36
# Right after start a KRaft broker can answer metadata before the controller accepts CreateTopics.
ATTEMPTS = 10

ADMIN = "admin"
OPERATORS_PRINCIPAL = "operators"
INTEGRATOR_PREFIX = "integrator."
SCRAM_SHA_512 = 2  # AlterUserScramCredentials' mechanism code (1 is SCRAM-SHA-256)
SCRAM_ITERATIONS = 8192
# The events topics an integrator serving every account may be allowed to read (--read-events).
EVENTS_TOPICS = (topics.INVOICES_EVENTS, topics.NUMBERING_EVENTS, topics.PAYMENTS_EVENTS, topics.MAIL_EVENTS)

# --------------------------------------------------------------------------------------------- ACL plan

# Kafka's wire codes (org.apache.kafka.common.resource / acl).
TOPIC, GROUP = 2, 3
LITERAL, PREFIXED = 3, 4
READ, WRITE, DESCRIBE = 3, 4, 8
ALLOW = 3
RESOURCE_NAMES = {TOPIC: "topic", GROUP: "group"}
PATTERN_NAMES = {LITERAL: "literal", PREFIXED: "prefixed"}
OPERATION_NAMES = {READ: "read", WRITE: "write", DESCRIBE: "describe"}


@dataclass(frozen=True, order=True)
class Acl:
    """One ALLOW rule for a principal from any host."""

    principal: str  # the user name, without "User:"
    resource_type: int
    resource_name: str
    pattern: int
    operation: int

    def __str__(self) -> str:
        return (f"User:{self.principal} {OPERATION_NAMES[self.operation]} {RESOURCE_NAMES[self.resource_type]} "
                f"{self.resource_name}{'*' if self.pattern == PREFIXED else ''}")


def _topic(principal: str, topic: str, *operations: int, pattern: int = LITERAL) -> list[Acl]:
    return [Acl(principal, TOPIC, topic, pattern, operation) for operation in operations]


def grants_acls(principal: str, grants: Grants, *, consumer_group: str | None, prefixed_group: bool = False) -> list[Acl]:
    """READ on what it reads (and on integrators' copies of those integrators write), WRITE on what it
    writes and on the dead letters of what it reads, and its consumer group."""
    acls: list[Acl] = []
    for topic in grants.reads:
        acls += _topic(principal, topic, READ, DESCRIBE)
        if topic in INTEGRATOR_WRITABLE:
            acls += _topic(principal, f"{topic}.from.", READ, DESCRIBE, pattern=PREFIXED)
        if consumer_group is not None:  # a consumer dead-letters what it cannot take
            acls += _topic(principal, dead_letter_topic(topic), WRITE, DESCRIBE)
    for topic in grants.writes:
        acls += _topic(principal, topic, WRITE, DESCRIBE)
    if consumer_group is not None:
        acls.append(Acl(principal, GROUP, consumer_group, PREFIXED if prefixed_group else LITERAL, READ))
    return acls


def integrator_acls(name: str, *, read_events: bool = False) -> list[Acl]:
    principal = INTEGRATOR_PREFIX + name
    acls: list[Acl] = []
    for topic in topics.integrator_topics(name):
        acls += _topic(principal, topic, WRITE, DESCRIBE)
    if read_events:
        for topic in EVENTS_TOPICS:
            acls += _topic(principal, topic, READ, DESCRIBE)
        # Its consumer groups are named after it: `integrator.<name>` or `integrator.<name>.<anything>`.
        acls.append(Acl(principal, GROUP, principal, PREFIXED, READ))
    return acls


def platform_acls() -> list[Acl]:
    """Every ACL of the platform's own principals: the services (group id = service name) and operators.
    Operators read without a consumer group (the CLI assigns partitions itself), so they own no group and
    write no dead letters."""
    acls: list[Acl] = []
    for service, grants in SERVICES.items():
        acls += grants_acls(service, grants, consumer_group=service)
    acls += grants_acls(OPERATORS_PRINCIPAL, OPERATORS, consumer_group=None)
    return acls


def platform_principals() -> list[str]:
    return [*SERVICES, OPERATORS_PRINCIPAL]


# --------------------------------------------------------------------------------------------- passwords


def passwords_from_env() -> bool:
    """docker-compose.yml's kafka-init: every password comes from KAFKA_<PRINCIPAL>_PASSWORD, no file."""
    return os.environ.get("KAFKA_PASSWORDS_FROM_ENV") == "1"


def password_variable(principal: str) -> str:
    return "KAFKA_" + re.sub(r"[^A-Z0-9]", "_", principal.upper()) + "_PASSWORD"


def credentials_dir() -> Path:
    value = os.environ.get("KAFKA_CREDENTIALS_DIR")
    if not value:
        raise SystemExit("KAFKA_CREDENTIALS_DIR is not set (source deploy/env/<stack>.env)")
    return Path(value)


def password_file(principal: str) -> Path:
    return credentials_dir() / f"{principal}.password"


def ensure_password(principal: str) -> str:
    """The principal's password, made on first use: readable by this OS user alone."""
    if passwords_from_env():
        variable = password_variable(principal)
        if not os.environ.get(variable):
            raise SystemExit(f"{variable} is not set (the password of the Kafka user {principal})")
        return os.environ[variable]
    directory = credentials_dir()
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    path = password_file(principal)
    if not path.exists():
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32) + "\n")
        os.replace(path.with_suffix(".tmp"), path)
    path.chmod(0o600)
    return path.read_text().strip()


def registered_integrators() -> list[str]:
    """Integrators registered before (a password file each) and those the stack's env names."""
    names = set(os.environ.get("KAFKA_INTEGRATORS", "").split())
    if not passwords_from_env() and credentials_dir().is_dir():
        names |= {p.name[len(INTEGRATOR_PREFIX):-len(".password")]
                  for p in credentials_dir().glob(f"{INTEGRATOR_PREFIX}*.password")}
    return sorted(names)


def reads_events_flag(name: str) -> Path:
    return credentials_dir() / f"{INTEGRATOR_PREFIX}{name}.read-events"


# --------------------------------------------------------------------------------------------- wire requests
# aiokafka has no AlterUserScramCredentials (KIP-554, API key 51): its v0 is a flexible request, so it is
# written with the compact types, like aiokafka's own AlterPartitionReassignments.


class AlterUserScramCredentialsResponse_v0(Response):
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(
            ("user_name", CompactString("utf-8")),
            ("error_code", Int16),
            ("error_message", CompactString("utf-8")),
            ("tags", TaggedFields),
        )),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentialsRequest_v0(RequestStruct):
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        ("deletions", CompactArray(
            ("name", CompactString("utf-8")),
            ("mechanism", Int8),
            ("tags", TaggedFields),
        )),
        ("upsertions", CompactArray(
            ("name", CompactString("utf-8")),
            ("mechanism", Int8),
            ("iterations", Int32),
            ("salt", CompactBytes),
            ("salted_password", CompactBytes),
            ("tags", TaggedFields),
        )),
        ("tags", TaggedFields),
    )


class AlterUserScramCredentials(Request[AlterUserScramCredentialsRequest_v0]):
    API_KEY = 51

    def __init__(self, passwords: dict[str, str]) -> None:
        self.upsertions = []
        for user, password in sorted(passwords.items()):
            salt = secrets.token_bytes(64)
            # SCRAM's SaltedPassword (RFC 5802, Hi()) is PBKDF2 with the mechanism's HMAC: the broker
            # derives the stored and server keys from it and never sees the password.
            salted = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, SCRAM_ITERATIONS)
            self.upsertions.append((user, SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted, {}))

    def build(self, request_struct_class: type[AlterUserScramCredentialsRequest_v0]) -> AlterUserScramCredentialsRequest_v0:
        return request_struct_class([], self.upsertions, {})


CreateAclsStruct: TypeAlias = CreateAclsRequest_v1


class CreateAcls(Request[CreateAclsStruct]):
    """Many ACLs in one request (aiokafka's CreateAclsRequest carries one)."""

    API_KEY = 30

    def __init__(self, acls: list[Acl]) -> None:
        self.acls = acls

    def build(self, request_struct_class: type[CreateAclsStruct]) -> CreateAclsStruct:
        return request_struct_class([
            (acl.resource_type, acl.resource_name, acl.pattern, f"User:{acl.principal}", "*", acl.operation, ALLOW)
            for acl in self.acls
        ])


# --------------------------------------------------------------------------------------------- provisioning


def admin_client(bootstrap: str) -> AIOKafkaAdminClient:
    """The super user, over the stack's security protocol (SASL_PLAINTEXT locally, SASL_SSL with
    KAFKA_SSL_CAFILE in docker-compose.yml)."""
    if not passwords_from_env() and not password_file(ADMIN).exists():
        raise SystemExit(f"{password_file(ADMIN)} is missing: deploy/stack.sh writes it when it formats the broker's storage")
    settings = KafkaSettings(
        kafka_bootstrap_servers=bootstrap,
        kafka_security_protocol=os.environ.get("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
        kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username=ADMIN, kafka_sasl_password=ensure_password(ADMIN),
    )
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000, **settings.aiokafka_options())


async def check(bootstrap: str) -> int:
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        await admin.list_topics()
    finally:
        await admin.close()
    return 0


async def create_topics(admin: AIOKafkaAdminClient, wanted: list[str]) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            print(f"topics: all {len(wanted)} present")
            return
        try:
            response = await admin.create_topics(
                [NewTopic(t, PARTITIONS, REPLICATION_FACTOR,
                          topic_configs={"cleanup.policy": "compact"} if t in COMPACTED else {})
                 for t in missing]
            )
        except KafkaError as exc:
            print(f"topics: create attempt {attempt} failed: {exc!r}", file=sys.stderr)
            await asyncio.sleep(1)
            continue
        errors = [
            (name, code, msg)
            for name, code, *rest in response.topic_errors
            for msg in [rest[0] if rest else ""]
            if code not in (0, TOPIC_ALREADY_EXISTS)
        ]
        if not errors:
            print(f"topics: created {len(missing)}: {', '.join(missing)}")
            continue  # loop once more to confirm via metadata
        print(f"topics: attempt {attempt} errors: {errors}", file=sys.stderr)
        await asyncio.sleep(1)
    raise SystemExit("topics: giving up, some topics are still missing")


async def upsert_users(admin: AIOKafkaAdminClient, principals: list[str]) -> None:
    passwords = {principal: ensure_password(principal) for principal in principals}
    for attempt in range(1, ATTEMPTS + 1):
        response = await admin._send_to_controller(AlterUserScramCredentials(passwords))
        failed = [(user, code, message) for user, code, message, _ in response.results if code != 0]
        if not failed:
            print(f"users: {len(passwords)} SCRAM-SHA-512 users set ({', '.join(sorted(passwords))})")
            return
        print(f"users: attempt {attempt} errors: {failed}", file=sys.stderr)
        await asyncio.sleep(1)
    raise SystemExit("users: giving up")


async def existing_acls(admin: AIOKafkaAdminClient) -> set[Acl]:
    # Filter ANY (1) on every field: all ACLs of the cluster.
    response = await admin._send_request(DescribeAclsRequest(1, None, 1, None, None, 1, 1))
    if response.error_code:
        raise SystemExit(f"acls: describe failed: {response.error_code} {response.error_message}")
    found = set()
    for resource_type, name, pattern, acls in response.resources:
        for principal, _host, operation, permission in acls:
            if permission == ALLOW and principal.startswith("User:"):
                found.add(Acl(principal[len("User:"):], resource_type, name, pattern, operation))
    return found


async def create_acls(admin: AIOKafkaAdminClient, wanted: list[Acl]) -> None:
    missing = sorted(set(wanted) - await existing_acls(admin))
    if not missing:
        print(f"acls: all {len(set(wanted))} present")
        return
    response = await admin._send_request(CreateAcls(missing))
    failed = [(str(acl), code, message) for acl, (code, message) in zip(missing, response.creation_responses, strict=True) if code]
    if failed:
        raise SystemExit(f"acls: creating failed: {failed}")
    print(f"acls: created {len(missing)}")


async def provision(bootstrap: str, integrators: dict[str, bool]) -> int:
    """`integrators`: each integrator to provision, and whether it may read the events topics."""
    wanted_topics = list(topics.all_with_dead_letters())
    acls = platform_acls()
    principals = platform_principals()
    for name, read_events in sorted(integrators.items()):
        wanted_topics += topics.integrator_topics(name)
        acls += integrator_acls(name, read_events=read_events)
        principals.append(INTEGRATOR_PREFIX + name)
    admin = admin_client(bootstrap)
    await admin.start()
    try:
        await create_topics(admin, wanted_topics)
        await upsert_users(admin, principals)
        await create_acls(admin, acls)
    finally:
        await admin.close()
    return 0


def main(argv: list[str]) -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        print("KAFKA_BOOTSTRAP_SERVERS is not set (source deploy/env/<stack>.env)", file=sys.stderr)
        return 2
    try:
        if "--check" in argv:
            return asyncio.run(check(bootstrap))
        integrators = {name: reads_events_flag(name).exists() for name in registered_integrators()}
        if argv[:1] == ["integrator"]:
            if len(argv) < 2 or not topics.is_integrator_name(argv[1]):
                print(f"usage: provision_kafka.py integrator NAME [--read-events]  (NAME: {topics.INTEGRATOR_NAME})",
                      file=sys.stderr)
                return 2
            name = argv[1]
            read_events = "--read-events" in argv[2:] or integrators.get(name, False)
            if read_events:
                ensure_password(INTEGRATOR_PREFIX + name)
                reads_events_flag(name).touch(mode=0o600)
            integrators = {name: read_events}  # the others are provisioned by every `up`
            rc = asyncio.run(provision(bootstrap, integrators))
            where = (password_variable(INTEGRATOR_PREFIX + name) if passwords_from_env()
                     else f"password in {password_file(INTEGRATOR_PREFIX + name)}")
            print(f"integrator {name}: user {INTEGRATOR_PREFIX}{name}, {where}")
            print(f"integrator {name}: writes {', '.join(topics.integrator_topics(name))}"
                  + (f"; reads {', '.join(EVENTS_TOPICS)}" if read_events else "; reads nothing"))
            return rc
        return asyncio.run(provision(bootstrap, integrators))
    except KafkaError as exc:
        print(f"kafka at {bootstrap} not reachable as {ADMIN}: {exc!r}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
