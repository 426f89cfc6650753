"""Kafka wiring: the broker, topics, the publisher the outbox uses, and subscriptions."""

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage

from rinnovo.contracts import TopicSpec
from rinnovo.runtime import tracing
from rinnovo.runtime.batches import BatchConsumer
from rinnovo.runtime.batches import EventHandler as EventHandler
from rinnovo.runtime.events import Record
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.producer import Message, RecordProducer
from rinnovo.runtime.settings import InfraSettings

log = structlog.get_logger(__name__)


def bootstrap_servers(infra: InfraSettings) -> list[str]:
    """``KAFKA_BOOTSTRAP_SERVERS`` as a list: FastStream takes a string for one address."""
    return [address.strip() for address in infra.kafka_bootstrap_servers.split(",") if address]


def client_options(infra: InfraSettings) -> dict[str, Any]:
    """What every Kafka client of a service is given to reach the cluster and sign in."""
    return {
        "bootstrap_servers": bootstrap_servers(infra),
        **infra.kafka_security.client_options(),
    }


def make_producer(infra: InfraSettings, service: str) -> RecordProducer:
    """The producer outbox records and dead letters leave through."""
    return RecordProducer(
        {**client_options(infra), "client_id": f"rinnovo-{service}", "linger_ms": 2}
    )


def make_broker(infra: InfraSettings, service: str, metrics: Metrics | None = None) -> KafkaBroker:
    """The consuming side; consumers acknowledge after the work is stored. Nothing is
    published through the broker's own producer: events leave through a ``RecordProducer``.
    Without ``metrics``, a broker only documented (the AsyncAPI document), never started."""
    middlewares: tuple[KafkaPrometheusMiddleware, ...] = ()
    if metrics is not None:
        middlewares = (KafkaPrometheusMiddleware(registry=metrics.registry, app_name=service),)
    return KafkaBroker(
        bootstrap_servers(infra),
        client_id=f"rinnovo-{service}",
        security=infra.kafka_security.faststream(),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        allow_auto_create_topics=False,
        middlewares=middlewares,
        logger=None,
    )


async def ensure_topics(infra: InfraSettings, specs: Iterable[TopicSpec]) -> None:
    """Create each topic and its dead-letter twin if missing (compaction where declared)."""
    new: list[NewTopic] = []
    prefix = infra.kafka_topic_prefix
    for spec in specs:
        configs = {"cleanup.policy": "compact"} if spec.compacted else {}
        for name, config in ((prefix + spec.name, configs), (prefix + spec.dead_letter, {})):
            new.append(
                NewTopic(
                    name=name,
                    num_partitions=infra.kafka_topic_partitions,
                    replication_factor=infra.kafka_replication_factor,
                    topic_configs=config,
                )
            )
    admin = AIOKafkaAdminClient(**client_options(infra))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in new if t.name not in existing]
        if missing:
            # Another service may create the same topics meanwhile.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
            await _listed(admin, {t.name for t in missing})
    finally:
        await admin.close()


async def _listed(admin: AIOKafkaAdminClient, names: set[str], patience: float = 30.0) -> None:
    """Wait until the broker's metadata lists the new topics: created by another service in
    the same moment, they may not be there yet, and a consumer started before then logs
    each as an error (it finds them later on its own). Waiting is the normal course here, not
    a failure to retry, so nothing is logged unless the patience runs out."""
    try:
        async with asyncio.timeout(patience):
            while True:
                if names <= set(await admin.list_topics()):
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        log.warning("new topics not yet in the cluster's metadata", topics=sorted(names))


class OutboxPublisher:
    """Publishes outbox records through the service's producer, under the topic prefix."""

    def __init__(
        self,
        producer: RecordProducer,
        topic_prefix: str = "",
        stamp: Callable[[Record], Mapping[str, str]] = lambda _: {},
    ) -> None:
        self._producer = producer
        self._prefix = topic_prefix
        self._stamp = stamp  # headers added on the way out (the registry's schema id)

    async def publish(self, records: Sequence[Record]) -> None:
        messages = [
            Message(
                self._prefix + r.topic,
                r.value,
                key=r.key.encode(),
                headers={**r.headers, **self._stamp(r)},
            )
            for r in records
        ]
        with tracing.publishing(messages) as traced:  # in the trace each was written in
            await self._producer.send_all(traced)


FETCH_WAIT_MS = 2000
"""How long the broker holds an idle consumer's fetch: records arriving meanwhile are
answered at once, so this costs no latency, only the requests of an idle consumer."""


def consume_in_batches(
    broker: KafkaBroker,
    consumer: BatchConsumer,
    group_id: str,
    *,
    batch_size: int,
    wait_ms: int,
) -> None:
    """One consumer for every topic of the service, handing each batch it fetches (up to
    ``batch_size`` records; an idle fetch waits ``wait_ms``) to ``consumer``; the batch's
    offsets are committed once it returns, after every effect is stored."""

    async def records(message: StreamMessage[Any]) -> Any:
        return message.raw_message  # decoded per record, against its topic's events

    async def consume(batch: Any) -> None:
        await consumer.handle(batch)

    broker.subscriber(
        *consumer.topics,
        group_id=group_id,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=wait_ms,
        fetch_max_wait_ms=FETCH_WAIT_MS,
        auto_offset_reset="earliest",
        decoder=records,
        include_in_schema=False,
    )(consume)


def document_subscription(
    broker: KafkaBroker, spec: TopicSpec, topic: str, group_id: str, description: str = ""
) -> None:
    """The subscription as the service's AsyncAPI document shows it: one channel per topic
    with the topic's payload schema (``broker`` is only documented, never started)."""

    async def consume(event: Any) -> None:
        pass

    # The annotation gives the AsyncAPI document the topic's real payload schema.
    consume.__annotations__ = {"event": spec.payload_type, "return": None}
    broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        title=f"{spec.name}:{group_id}",
        description=description or spec.description,
    )(consume)
