"""What every service is made of, wired once: Mongo, Kafka, outbox relay, HTTP, health.

A service's composition root builds one ``ServiceRuntime``, registers its subscriptions,
collections with an outbox, start-up steps and routers, and asks it for the ASGI app.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import structlog
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from rinnovo.contracts import TopicSpec
from rinnovo.runtime import tracing_setup
from rinnovo.runtime.auth import Auth, AuthSettings
from rinnovo.runtime.batches import BatchConsumer, Subscription
from rinnovo.runtime.body_limit import BodyLimit
from rinnovo.runtime.changes import Aggregates, Changes
from rinnovo.runtime.clock import Clock, ShiftedClock
from rinnovo.runtime.dead_letters import DeadLetters
from rinnovo.runtime.events import Record
from rinnovo.runtime.io_metrics import count_io
from rinnovo.runtime.kafka import (
    EventHandler,
    OutboxPublisher,
    client_options,
    consume_in_batches,
    document_subscription,
    ensure_topics,
    make_broker,
    make_producer,
)
from rinnovo.runtime.metrics import Metrics, MetricsServer, instrument_http
from rinnovo.runtime.observed_claims import ObservedClaims
from rinnovo.runtime.outbox import OutboxRelay, RelayLease
from rinnovo.runtime.probes import Probes
from rinnovo.runtime.problems import (
    document_problems,
    install_problem_handlers,
    problem_response,
)
from rinnovo.runtime.registry import register_events
from rinnovo.runtime.settings import ServiceSettings
from rinnovo.runtime.time_travel import clock_router, service_clock

log = structlog.get_logger(__name__)

Document = dict[str, Any]
Step = Callable[[], Coroutine[Any, Any, None]]
T = TypeVar("T")


class Readiness(BaseModel):
    status: str


class ServiceRuntime:
    def __init__(self, name: str, settings: ServiceSettings, clock: Clock | None = None) -> None:
        self.name = name
        self.settings = settings
        self.clock = clock or service_clock(settings.time_travel)
        self.metrics = Metrics()
        tracing_setup.configure(name)  # before the clients it instruments are made
        self.mongo: AsyncMongoClient[Document] = AsyncMongoClient(
            settings.infra.mongodb_url.get_secret_value(),
            tz_aware=True,
            connect=False,
            event_listeners=count_io(self.metrics) if settings.io_metrics else [],
        )
        self.db: AsyncDatabase[Document] = self.mongo[settings.database or f"rinnovo_{name}"]
        self.producer = make_producer(settings.infra, name)
        self.broker = make_broker(settings.infra, name, self.metrics)
        self.specification = make_broker(settings.infra, name)
        """Only documents the service (its AsyncAPI document); never started."""
        self.group_id = settings.consumer_group or f"rinnovo-{name}"
        self.consumer: BatchConsumer | None = None
        self._subscriptions: list[Subscription] = []
        self._topics: dict[str, TopicSpec] = {}
        self._produced: list[str] = []
        self._consumed: list[str] = []
        self._outbox_collections: list[AsyncCollection[Document]] = []
        self._startup: list[Step] = []
        self._background: list[Step] = []
        self._on_clock_moved: list[Callable[[], None]] = []
        self.relay: OutboxRelay | None = None
        auth = AuthSettings()
        auth.refuse_unsafe(settings.dev_mode)  # raises InsecureSetting: nothing started yet
        self.auth = Auth(auth)
        self._larger_bodies: dict[str, int] = {}
        self.metrics_server: MetricsServer | None = None

    def produces(self, *specs: TopicSpec) -> None:
        """Declare the topics this service publishes (created at start, documented)."""
        for spec in specs:
            self._topics[spec.name] = spec
            self._produced.append(spec.name)
            # Documentation only: events leave through the outbox relay.
            self.specification.publisher(
                self.settings.infra.kafka_topic_prefix + spec.name,
                title=spec.name,
                description=spec.description,
                schema=spec.payload_type,
            )

    def subscribe(self, spec: TopicSpec, handler: EventHandler) -> None:
        """Consume every event of a topic with ``handler``, at least once, in partition
        order per key, in batches with the service's other topics (``runtime.batches``)."""
        self._topics[spec.name] = spec
        topic = self.settings.infra.kafka_topic_prefix + spec.name
        self._consumed.append(topic)
        self._subscriptions.append(Subscription(topic, spec, handler))
        document_subscription(self.specification, spec, topic, self.group_id)

    def _consume(self) -> None:
        if self.consumer is not None or not self._subscriptions:
            return
        dead_letters = DeadLetters(self.name, self.metrics, self.producer, self.group_id)
        self.consumer = BatchConsumer(self._subscriptions, dead_letters, self.metrics)
        consume_in_batches(
            self.broker,
            self.consumer,
            self.group_id,
            batch_size=self.settings.consumer_batch_size,
            wait_ms=self.settings.consumer_wait_ms,
        )

    def with_outbox(self, collection: AsyncCollection[Document]) -> None:
        self._outbox_collections.append(collection)

    def on_startup(self, step: Step) -> None:
        """Runs before consuming starts (indexes, seed data), in registration order."""
        self._startup.append(step)

    def in_background(self, loop: Step) -> None:
        """A loop that runs for the life of the service (scheduler, ...)."""
        self._background.append(loop)

    def on_clock_moved(self, wake: Callable[[], None]) -> None:
        """Called when an admin moves a time-travel clock (schedulers look again)."""
        self._on_clock_moved.append(wake)

    def accept_larger_bodies(self, path: str, max_bytes: int) -> None:
        """Let one path take bodies over ``max_body_bytes`` (a bank statement)."""
        self._larger_bodies[path] = max_bytes

    def changes(
        self,
        store: Aggregates[T],
        scheduled: str | None = None,
        on_due: Callable[[datetime], None] | None = None,
    ) -> Changes[T]:
        """Changes of one kind of aggregate that wake the relay; with ``scheduled`` (what
        its due work is called), its claims are measured (``observed_claims.py``); ``on_due``
        is told each due instant written (``Changes.on_due``)."""
        if scheduled is not None:
            store = ObservedClaims(store, self.metrics, scheduled)
        return Changes(store, self.wake_relay, on_due)

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def ready(self) -> bool:
        try:
            await self.db.command("ping")
            ready = await self.broker.ping(timeout=2.0)
        except Exception:
            ready = False
        self.metrics.ready.set(1 if ready else 0)
        return ready

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Start everything in order; stop it all in reverse, whatever happened."""
        tasks: list[asyncio.Task[None]] = []
        try:
            if self.settings.metrics_port is not None:
                self.metrics_server = MetricsServer(
                    self.metrics.registry, self.settings.http_host, self.settings.metrics_port
                )
            infra = self.settings.infra
            await ensure_topics(infra, self._topics.values())
            if self._outbox_collections:
                self.relay = OutboxRelay(
                    self._outbox_collections,
                    OutboxPublisher(self.producer, infra.kafka_topic_prefix, await self._stamp()),
                    self.metrics,
                    poll_seconds=self.settings.outbox_poll_seconds,
                    lease=RelayLease(
                        self.db["outbox_relay_leases"],
                        self.name,
                        self.settings.outbox_lease_seconds,
                    ),
                    clock=self.clock.now,
                )
                await self.relay.ensure_indexes()
            for step in self._startup:
                await step()
            self._consume()
            await self.broker.start()
            loops: list[Step] = [*self._background, self._probes().run]
            if self.relay is not None:
                loops.append(self.relay.run)
            tasks = [asyncio.create_task(loop(), name=f"{self.name}:{loop}") for loop in loops]
            log.info("service started", service=self.name)
            yield
        finally:
            await stop_all(tasks)
            await self.broker.stop()
            await self.producer.stop()
            await self.mongo.close()
            if self.metrics_server is not None:
                self.metrics_server.close()
            tracing_setup.flush()
            log.info("service stopped", service=self.name)

    def _probes(self) -> Probes:
        return Probes(
            self.metrics,
            self.ready,
            client_options(self.settings.infra),
            self.group_id,
            self._consumed,
            self.settings.probe_seconds,
        )

    async def _stamp(self) -> Callable[[Record], Mapping[str, str]]:
        """With a schema registry, the produced events' schemas registered (or the start
        refused) and their ids stamped on each record; without one, nothing."""
        infra = self.settings.infra
        if not infra.schema_registry_url:
            return lambda _: {}
        produced = [self._topics[name] for name in self._produced]
        ids = await register_events(infra.schema_registry_url, produced, infra.kafka_topic_prefix)
        return ids.headers

    def http_app(
        self, routers: Sequence[APIRouter] = (), *, title: str, description: str = ""
    ) -> FastAPI:
        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            async with self.running():
                yield

        app = FastAPI(title=title, description=description, version="1", lifespan=lifespan)
        app.add_middleware(
            BodyLimit, max_bytes=self.settings.max_body_bytes, larger=self._larger_bodies
        )
        # After the body limit, so it answers that too; only the metrics and tracing layers
        # added below wrap it, and they see its answers, 500s included.
        install_problem_handlers(app)
        generate = app.openapi

        def openapi() -> dict[str, Any]:
            if app.openapi_schema is None:
                app.openapi_schema = document_problems(generate())
            return app.openapi_schema

        app.openapi = openapi  # type: ignore[method-assign]
        app.include_router(self._operations_router())
        for router in routers:
            app.include_router(router)
        if isinstance(self.clock, ShiftedClock):
            app.include_router(clock_router(self.clock, self.auth, self._on_clock_moved))
        instrument_http(app, self.metrics.registry)
        tracing_setup.instrument_app(app)
        return app

    def _operations_router(self) -> APIRouter:
        router = APIRouter(tags=["operations"])

        @router.get("/health/live", summary="The process is up")
        async def live() -> dict[str, str]:
            return {"status": "ok"}

        @router.get(
            "/health/ready",
            summary="Kafka and MongoDB are reachable",
            responses={503: {"description": "Not ready", "model": Readiness}},
        )
        async def ready(response: Response) -> dict[str, str]:
            if await self.ready():
                return {"status": "ready"}
            response.status_code = 503
            return {"status": "not ready"}

        if self.settings.dev_mode and self.settings.metrics_port is None:

            @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
            async def metrics() -> Response:
                registry = self.metrics.registry
                return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

        return router


__all__ = ["ServiceRuntime", "problem_response"]


async def stop_all(tasks: Sequence[asyncio.Task[None]], patience: float = 5.0) -> None:
    """Cancel the background loops and wait until each has ended. A loop that is still
    running after ``patience`` lost its cancellation (on Python 3.11 a wait woken in the
    same moment can swallow one) and is cancelled again, by name in the log."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=patience)
        for task in pending:
            log.warning("a background loop did not stop when cancelled", loop=task.get_name())
    await asyncio.gather(*tasks, return_exceptions=True)  # each one's end, read
