"""Assembles a service: broker, database, consumer, HTTP endpoints and lifecycle."""

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar, Union

from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from prometheus_client import make_asgi_app

from chassis.consumer import TOPIC_DISCOVERY_MS, Consumer, OrderedBy
from chassis.http.input import InputGuard
from chassis.inbox import Inbox
from chassis.kafka_errors import explain
from chassis.logs import configure_logging
from chassis.messaging import Publisher
from chassis.metrics import MessagingMetrics
from chassis.progress import ConsumerProgress
from chassis.repository import Repository
from chassis.settings import ServiceSettings
from chassis.storage import Store, open_store
from chassis.storage.cached import CachedStore
from chassis.storage.measured import MeasuredStore
from contracts.messages import MessageData
from contracts.messages.common import CommandRejected

R = TypeVar("R", bound=Repository)
StartupHook = Callable[[], Awaitable[Any]]
BackgroundTask = Callable[[], Awaitable[None]]


@dataclass
class Service:
    name: str
    settings: ServiceSettings
    broker: KafkaBroker
    store: Store
    metrics: MessagingMetrics
    publisher: Publisher
    consumer: Consumer
    progress: ConsumerProgress
    logger: logging.Logger
    repositories: list[Repository] = field(default_factory=list)
    startup_hooks: list[StartupHook] = field(default_factory=list)
    background_tasks: list[BackgroundTask] = field(default_factory=list)
    _running: list[asyncio.Task] = field(default_factory=list)

    def repository(self, repository_class: type[R]) -> R:
        """A repository on the service's store, whose leftover outboxes are published at start."""
        repository = repository_class(self.store)
        self.repositories.append(repository)
        return repository

    async def _relay_outboxes(self) -> None:
        """Publish the events a crash left committed but maybe unpublished, before consuming."""
        for repository in self.repositories:
            pending = await repository.pending()
            for _, messages in pending:
                for message in sorted(messages, key=lambda message: message.envelope.time):
                    await self.publisher.publish(message)
            await repository.clear_outboxes([aggregate_id for aggregate_id, _ in pending])
            if pending:
                self.logger.warning("relayed events left in outboxes", extra={
                    "collection": repository.collection_name, "aggregates": len(pending)})

    def on_startup(self, hook: StartupHook) -> StartupHook:
        """Run before consuming starts, after the store is prepared and leftover outboxes relayed."""
        self.startup_hooks.append(hook)
        return hook

    def background(self, task: BackgroundTask) -> BackgroundTask:
        """A loop that runs while the service runs (timers, batch senders)."""
        self.background_tasks.append(task)
        return task

    def document_publications(self, models: Iterable[type[MessageData]]) -> None:
        """Declare what this service publishes so the AsyncAPI document shows each payload."""
        by_topic: dict[str, list[type[MessageData]]] = {}
        for model in models:
            by_topic.setdefault(model.topic, []).append(model)
        for topic, topic_models in sorted(by_topic.items()):
            self.broker.publisher(
                topic,
                title=f"{self.name}:{topic}:publish",
                description="Publishes " + ", ".join(m.type_name for m in topic_models),
                schema=Union[tuple(topic_models)] if len(topic_models) > 1 else topic_models[0],  # noqa: UP007
            )

    def asgi_app(self, *, version: str = "1.0.0", description: str = "") -> "ServiceApp":
        self.consumer.subscribe()
        return ServiceApp(self._stream(version, description), self.settings.internal_port)

    def _stream(self, version: str, description: str) -> AsgiFastStream:
        return AsgiFastStream(
            self.broker,
            asgi_routes=[
                ("/metrics", make_asgi_app(self.metrics.registry)),
                ("/healthz", _liveness()),
                ("/readyz", self._readiness()),
            ],
            specification=AsyncAPI(self.broker, title=f"{self.name} service", version=version, description=description),
            asyncapi_path="/docs/asyncapi",
            logger=self.logger,
            on_startup=[self._start],
            after_startup=[self._start_background],
            on_shutdown=[self._stop],
        )

    async def _start(self) -> None:
        await self._wait_for("the store", self.store.open)
        await self.store.prepare()
        # Connect the producer before the consumers start, so startup hooks can relay outboxes
        # ahead of any new message.
        await self._wait_for("Kafka", self.broker.connect)
        await self._relay_outboxes()
        for hook in self.startup_hooks:
            await hook()

    async def _wait_for(self, dependency: str, connect: Callable[[], Awaitable[Any]]) -> None:
        """Services start in any order with their infrastructure: wait rather than crash-loop."""
        deadline = asyncio.get_running_loop().time() + self.settings.startup_timeout_seconds
        delay = 0.5
        while True:
            try:
                await connect()
                return
            except Exception as error:
                # A refused login or ACL is named (aiokafka itself only says it could not bootstrap).
                reason = await explain(error, self.settings) if dependency == "Kafka" else None
                if asyncio.get_running_loop().time() + delay > deadline:
                    if reason:
                        raise RuntimeError(reason) from error
                    raise
                self.logger.warning(f"waiting for {dependency}", extra={"retry_in_seconds": delay, "reason": reason or repr(error)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)

    def _kafka_consumers(self) -> list:
        return [subscriber.consumer for subscriber in self.broker.subscribers if subscriber.consumer is not None]

    async def _watch_progress(self) -> None:
        await self.progress.watch(self._kafka_consumers, self.settings.consumer_progress_interval_seconds)

    async def _forget_old_inbox_entries(self) -> None:
        while True:
            await self.consumer.inbox.forget_before(timedelta(hours=self.settings.inbox_retention_hours))
            await asyncio.sleep(3600)

    async def _start_background(self) -> None:
        for task in [self._watch_progress, self._forget_old_inbox_entries, *self.background_tasks]:
            self._running.append(asyncio.create_task(_forever(task, self.logger), name=task.__name__))

    async def _stop(self) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        await self.store.close()

    def _readiness(self):
        @get(include_in_schema=False)
        async def readyz(scope: Any) -> AsgiResponse:
            problems = []
            if not await self.broker.ping(timeout=2):
                problems.append("kafka")
            try:
                await asyncio.wait_for(self.store.ping(), timeout=2)
            except Exception:
                problems.append("store")
            if stalled := self.progress.stalled_partitions():
                problems.append(f"consumer stalled on {', '.join(stalled)}")
            if problems:
                return AsgiResponse(f"unavailable: {', '.join(problems)}".encode(), 503)
            return AsgiResponse(b"ready", 200)

        return readyz


class ServiceApp:
    """The service's one ASGI app, served on two ports (see `serve`).

    The internal port (INTERNAL_PORT) is the operators': FastStream's endpoints (/metrics, /healthz,
    /readyz, /docs/asyncapi) and the `internal` paths (a read API's OpenAPI document). It is never
    published, so what it shows (series, schemas, readiness) reaches no customer and no tenant.
    The public port (HTTP_PORT) serves the `public` path prefixes only, each request checked by
    InputGuard before its app sees it unless the app matches its paths exactly itself; any other
    path there is 404. The lifespan (the consumer and
    the store starting and stopping) is FastStream's, once for both ports.
    """

    def __init__(self, stream: AsgiFastStream, internal_port: int) -> None:
        self.stream = stream
        self.internal_port = internal_port
        self.public: dict[str, Any] = {}
        self.internal: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        # Otherwise it is the FastStream app: its broker, its AsyncAPI schema.
        return getattr(self.stream, name)

    def serve_publicly(self, prefix: str, app: Any, *, exact_paths: bool = False) -> None:
        """Serve `app` under `prefix` on the public port, behind InputGuard; an app whose paths are
        `exact_paths` (a grammar that admits no control character, answering any other path with its
        own 404, as the hosted page does) answers such a path itself."""
        self.public[prefix] = app if exact_paths else InputGuard(app)

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] != "http":
            await self.stream(scope, receive, send)
        elif (scope.get("server") or (None, None))[1] == self.internal_port:
            await self.internal.get(scope["path"], self.stream)(scope, receive, send)
        else:
            app = next((app for prefix, app in self.public.items() if scope["path"].startswith(prefix)), _not_found)
            await app(scope, receive, send)


async def _not_found(scope: dict[str, Any], receive, send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Not found.\n"})


def _liveness():
    @get(include_in_schema=False)
    async def healthz(scope: Any) -> AsgiResponse:
        return AsgiResponse(b"ok", 200)

    return healthz


async def _forever(task: BackgroundTask, logger: logging.Logger) -> None:
    """Keep a background loop alive across its own failures; only cancellation stops it."""
    while True:
        try:
            await task()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("background task failed; restarting in 1 s", extra={"task": task.__name__})
            await asyncio.sleep(1)


def build_service(name: str, settings: ServiceSettings, *, rejection: type[CommandRejected],
                  in_order_per: OrderedBy = "aggregate", store: Store | None = None) -> Service:
    """`rejection` is the event type that answers this service's refused commands; `in_order_per`
    what the service's messages are handled in order for (see Consumer); `store` the service's
    store, by default the one its settings name (the unit tests' harness passes an in-memory one)."""
    logger = configure_logging(name, settings.log_level)
    metrics = MessagingMetrics()
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=name,
        security=settings.faststream_security(),
        # Topics come from deploy/ (contracts/topics.py); a service may not create any, and does not try.
        allow_auto_create_topics=False,
        logger=logger,
        # FastStream's "Received"/"Processed" lines per batch are debugging detail: the metrics
        # count every message, and the logs keep what needs a person.
        log_level=logging.DEBUG,
        # acks=all and idempotence: an event we report as published is on the broker.
        acks="all",
        enable_idempotence=True,
        # A batch's events go out in a few produce requests instead of one each: the services'
        # CPU goes mostly to socket writes, and a millisecond of lingering removes many of them.
        linger_ms=settings.kafka_linger_ms,
        # New integrators' topics join the consumer's pattern subscription within seconds.
        metadata_max_age_ms=TOPIC_DISCOVERY_MS,
    )
    # Outermost, so a copy recalled is no store operation on /metrics.
    store = CachedStore(MeasuredStore(
        store or open_store(settings.database_url, settings.database_name or name, pool_size=settings.database_pool_size),
        metrics.registry,
    ), max_bytes=int(settings.aggregate_cache_mib * 2**20), registry=metrics.registry)
    publisher = Publisher(broker, metrics)
    consumer = Consumer(
        service=name,
        broker=broker,
        publisher=publisher,
        store=store,
        inbox=Inbox(store, group=name),
        metrics=metrics,
        settings=settings,
        rejection=rejection,
        in_order_per=in_order_per,
    )
    progress = ConsumerProgress(metrics.registry, settings.consumer_stall_seconds)
    return Service(name, settings, broker, store, metrics, publisher, consumer, progress, logger)


def serve(app: ServiceApp, settings: ServiceSettings) -> None:
    """Run a service's ASGI app in the foreground until SIGINT/SIGTERM, on HTTP_PORT and
    INTERNAL_PORT: one server, one lifespan, two listening sockets (the app tells them apart by
    the port a request came in on)."""
    import uvicorn

    sockets = [socket.create_server((settings.http_host, port)) for port in (settings.http_port, settings.internal_port)]
    uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False)).run(sockets=sockets)
