"""Drives the platform the way an outside producer would: CloudEvents on Kafka, nothing else.

`Platform` starts the four services as real processes against the test stack (Kafka, PostgreSQL,
the SMTP catcher) that deploy/run-tests.sh brought up, publishes commands and collects every
event the services publish, so tests assert on what crossed the wire.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from psycopg.conninfo import make_conninfo

from chassis.kafka_errors import explain
from chassis.messaging import readable_headers
from chassis.settings import KafkaSettings
from chassis.storage import open_store
from chassis.unreadable import read_undecodable_header_names
from contracts import topics
from contracts.envelope import Envelope
from contracts.messages import MessageData, model_for
from services.invoices.adapters.invoices import Invoices

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("invoices", "numbering", "payments", "mailer")


def env(name: str) -> str:
    try:
        return os.environ[name]
    except KeyError:
        raise RuntimeError(f"{name} is not set: run the tests through `make test` (deploy/run-tests.sh)") from None


def kafka_settings(principal: str) -> KafkaSettings:
    """The test stack's Kafka settings as `principal` (its password file made by deploy/provision_kafka.py):
    `admin` (super user), `operators`, a service's name, or `integrator.<name>`."""
    return KafkaSettings(
        kafka_bootstrap_servers=env("KAFKA_BOOTSTRAP_SERVERS"),
        kafka_sasl_username=principal,
        kafka_sasl_password="",
        kafka_sasl_password_file=str(Path(env("KAFKA_CREDENTIALS_DIR")) / f"{principal}.password"),
    )


def kafka_options(principal: str) -> dict:
    """aiokafka's keyword arguments for a client connecting as `principal`."""
    return kafka_settings(principal).aiokafka_options()


async def start_explained(client, principal: str) -> None:
    """client.start(), with a refused login or ACL said as such instead of "Unable to bootstrap"."""
    try:
        await client.start()
    except Exception as error:
        reason = await explain(error, kafka_settings(principal))
        if reason is None:
            raise
        raise RuntimeError(reason) from error


def internal_url(service: str, path: str) -> str:
    """An address on the service's internal port: /metrics, /healthz, /readyz, /docs/..."""
    return f"http://127.0.0.1:{env(f'{service.upper()}_INTERNAL_PORT')}{path}"


def service_environment(service: str) -> dict[str, str]:
    """The variables that make a service process its own Kafka principal and PostgreSQL role."""
    return {"KAFKA_SASL_USERNAME": service, "KAFKA_SASL_PASSWORD": "",
            "KAFKA_SASL_PASSWORD_FILE": str(Path(env("KAFKA_CREDENTIALS_DIR")) / f"{service}.password"),
            "DATABASE_URL": database_url(service)}


@dataclass(frozen=True)
class Received:
    topic: str
    key: str | None
    headers: dict[str, str]
    body: bytes
    arrived_at: float = 0.0

    @property
    def type(self) -> str | None:
        return self.headers.get("ce_type")

    @property
    def envelope(self) -> Envelope:
        return Envelope.from_headers(self.headers)

    def caused_by(self, message: Envelope) -> bool:
        """Whether `message` caused this record; not the message itself (or its dead letter): a
        message that starts a flow names itself as its cause."""
        return self.headers.get("ce_causationid") == str(message.id) and self.headers.get("ce_id") != str(message.id)

    @property
    def data(self) -> dict:
        return json.loads(self.body)

    def model(self) -> MessageData:
        return model_for(self.type).model_validate_json(self.body)


class EventLog:
    """Every record on the platform's topics since the log started, in arrival order. It reads every
    topic and dead letter, so it connects as the super user `admin`."""

    def __init__(self, bootstrap: str, principal: str = "admin") -> None:
        self.bootstrap = bootstrap
        self.principal = principal
        self.records: list[Received] = []
        self._arrived = asyncio.Condition()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        # Tests publish records the Kafka client could not unpack; the log reads them as services do.
        read_undecodable_header_names()
        # No group: the consumer takes every partition of the topics itself, so a test that blocks
        # its event loop for a while (a browser, a big PDF) cannot lose a group membership and,
        # rejoining at the latest offsets, miss what was published meanwhile.
        self.consumer = AIOKafkaConsumer(
            *topics.all_with_dead_letters(),
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="latest",
            enable_auto_commit=False,
            **kafka_options(self.principal),
        )
        await start_explained(self.consumer, self.principal)
        # Wait for the partition assignment, so nothing published after start() is missed.
        while not self.consumer.assignment():
            await asyncio.sleep(0.05)
        for partition in self.consumer.assignment():
            await self.consumer.position(partition)
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async for record in self.consumer:
            # Leniently: tests publish header names and values that are not UTF-8 on purpose.
            headers = readable_headers(record.headers)
            key = record.key.decode() if record.key is not None else None
            async with self._arrived:
                self.records.append(Received(record.topic, key, headers, record.value, time.perf_counter()))
                self._arrived.notify_all()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()

    async def wait_for(self, predicate: Callable[[Received], bool], timeout: float = 30) -> Received:
        async def first_match() -> Received:
            async with self._arrived:
                while True:
                    for record in self.records:
                        if predicate(record):
                            return record
                    await self._arrived.wait()

        try:
            return await asyncio.wait_for(first_match(), timeout)
        except TimeoutError:
            seen = [(r.topic, r.type, r.key) for r in self.records[-30:]]
            raise AssertionError(f"no matching record within {timeout}s; last records: {seen}") from None

    async def wait_for_type(self, type_name: str, subject: str, timeout: float = 30) -> Received:
        return await self.wait_for(lambda r: r.type == type_name and r.headers.get("ce_subject") == subject, timeout)

    def of_type(self, type_name: str, subject: str | None = None) -> list[Received]:
        return [
            r for r in self.records
            if r.type == type_name and (subject is None or r.headers.get("ce_subject") == subject)
        ]


def database_url(role: str) -> str:
    """How `role` connects to the test stack's PostgreSQL: a service's own role to its own database,
    with the password deploy/stack.sh made for it; or the superuser `postgres`, which only tests that
    make databases of their own use. DATABASE_URL=mongodb://... runs the services on MongoDB instead."""
    if os.environ.get("DATABASE_URL", "").startswith("mongodb"):
        return os.environ["DATABASE_URL"]
    password = (Path(env("STACK_DIR")) / "postgres" / "credentials" / f"{role}.password").read_text().strip()
    return f"postgresql://{role}:{password}@127.0.0.1:{env('POSTGRES_PORT')}/{role}"


def database_conninfo(database: str) -> str:
    """A connection to a service's own database, as that service connects."""
    return make_conninfo(database_url(database), dbname=database)


@asynccontextmanager
async def invoices_in_store() -> AsyncIterator[Invoices]:
    """The invoices service's invoices, on its own store, through the repository it uses itself."""
    store = open_store(database_url("invoices"), "invoices")
    await store.open()
    try:
        yield Invoices(store)
    finally:
        await store.close()


async def stored_invoice(account_id: str, invoice_id: str, settled: Callable[[dict], bool], timeout: float = 10) -> dict:
    """The invoices service's document of the account's invoice once `settled` holds: the outbox is
    cleared just after the events are published, so a test that has seen an event may read the
    document a moment early."""
    async with invoices_in_store() as invoices:
        deadline = time.monotonic() + timeout
        while True:
            document = await invoices.documents.get(Invoices.key(account_id, invoice_id))
            if document is not None and settled(document) or time.monotonic() > deadline:
                return document
            await asyncio.sleep(0.1)


def writer_of(topic: str) -> str:
    """Who may write `topic` on the test stack: an integrator its own topics, the operators what they send,
    else the service whose topic it is (a test that publishes a service's events stands in for it)."""
    if integrator := topics.origin_of(topic).integrator:
        return f"integrator.{integrator}"
    if topic in topics.OPERATORS.writes:
        return "operators"
    return next((service for service, grants in topics.SERVICES.items() if topic in grants.writes), "admin")


class Producer:
    """Publishes as `principal`, or by default as whoever may write each topic (`writer_of`): the
    operators for commands, the owning service for its events."""

    def __init__(self, bootstrap: str, principal: str | None = None) -> None:
        self.bootstrap = bootstrap
        self.principal = principal
        self.producers: dict[str, AIOKafkaProducer] = {}

    async def _producer(self, principal: str) -> AIOKafkaProducer:
        if principal not in self.producers:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True,
                                        **kafka_options(principal))
            await start_explained(producer, principal)
            self.producers[principal] = producer
        return self.producers[principal]

    @property
    def producer(self) -> AIOKafkaProducer:
        """The producer of the commands (started by start())."""
        return self.producers[self.principal or "operators"]

    async def start(self) -> None:
        await self._producer(self.principal or "operators")

    async def stop(self) -> None:
        for producer in self.producers.values():
            await producer.stop()
        self.producers.clear()

    async def send(self, data: MessageData, *, account_id: str, actor: str = "user:test", envelope: Envelope | None = None) -> Envelope:
        envelope = envelope or Envelope.originate(
            source="tests", type=data.type_name, subject=data.aggregate_id(), accountid=account_id, actor=actor
        )
        await self.send_raw(data.topic, envelope.subject, envelope.to_headers(), data.model_dump_json().encode())
        return envelope

    async def send_raw(self, topic: str, key: str | None, headers: dict[str, str | bytes], body: bytes) -> None:
        producer = await self._producer(self.principal or writer_of(topic))
        await producer.send_and_wait(
            topic,
            body,
            key=key.encode() if key is not None else None,
            headers=[(name, value if isinstance(value, bytes) else value.encode()) for name, value in headers.items()],
        )


class ClockOffsets:
    """Per-account offsets of the invoices service's time, in the file every instance reads."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _offsets(self) -> dict[str, float]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def _write(self, offsets: dict[str, float]) -> None:
        scratch = self.path.with_suffix(".tmp")
        scratch.write_text(json.dumps(offsets))
        scratch.replace(self.path)  # atomic: the service never reads half a file

    def move_to(self, account_id: str, at: datetime) -> None:
        self._write({**self._offsets(), account_id: (at - datetime.now(UTC)).total_seconds()})

    def forget(self, account_id: str) -> None:
        offsets = self._offsets()
        offsets.pop(account_id, None)
        self._write(offsets)


class ServiceProcesses:
    """The four services as child processes with the test stack's settings, each its own Kafka principal."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def port(self, service: str) -> int:
        return int(env(f"{service.upper()}_HTTP_PORT"))

    def start(self, service: str) -> None:
        # A service left over from an aborted session would answer /readyz in this one's place.
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port(service))) == 0:
                raise RuntimeError(f"port {self.port(service)} for {service} is taken: a leftover process? (`deploy/services.sh status`)")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{service}.log", "ab")  # noqa: SIM115  (owned by the child)
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            cwd=REPO,
            env={**os.environ, **service_environment(service), "HTTP_PORT": str(self.port(service)),
                 "INTERNAL_PORT": env(f"{service.upper()}_INTERNAL_PORT"), "LOG_LEVEL": "INFO"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, service: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = internal_url(service, "/readyz")
        while time.monotonic() < deadline:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited with {process.returncode}; see {self.log_dir / service}.log")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{service} not ready after {timeout}s; see {self.log_dir / service}.log")

    def stop(self, service: str) -> None:
        process = self.processes.pop(service)
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self, service: str) -> None:
        """SIGKILL: the service gets no chance to finish what it was doing, as in a crash."""
        process = self.processes.pop(service)
        process.kill()
        process.wait()

    def start_all(self, names=SERVICES) -> None:
        for service in names:
            self.start(service)
        for service in names:
            self.wait_ready(service)

    def stop_all(self) -> None:
        for service in list(self.processes):
            self.stop(service)
