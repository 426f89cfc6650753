"""Kafka wiring: the broker, topics, the publisher the outbox uses, and subscriptions."""

import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.message import StreamMessage

from rinnovo.contracts import Event, TopicSpec
from rinnovo.runtime.dead_letters import DeadLetterMiddleware, PoisonMessage
from rinnovo.runtime.events import Record
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.producer import Message, RecordProducer
from rinnovo.runtime.settings import InfraSettings

EventHandler = Callable[[Event], Awaitable[None]]


def client_options(infra: InfraSettings) -> dict[str, Any]:
    """What every Kafka client of a service is given to reach the cluster."""
    return {"bootstrap_servers": infra.kafka_bootstrap_servers}


def make_producer(infra: InfraSettings, service: str) -> RecordProducer:
    """The producer outbox records and dead letters leave through."""
    return RecordProducer(
        {**client_options(infra), "client_id": f"rinnovo-{service}", "linger_ms": 2}
    )


def make_broker(
    infra: InfraSettings, service: str, metrics: Metrics, producer: RecordProducer
) -> KafkaBroker:
    """The consuming side; consumers acknowledge after the work is stored. Nothing is
    published through the broker's own producer: events leave through ``producer``."""
    broker = KafkaBroker(
        infra.kafka_bootstrap_servers,
        client_id=f"rinnovo-{service}",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        allow_auto_create_topics=False,
        middlewares=(
            KafkaPrometheusMiddleware(registry=metrics.registry, app_name=service),
            DeadLetterMiddleware(service=service, metrics=metrics, producer=producer),
        ),
        logger=None,
    )
    return broker


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
    finally:
        await admin.close()


class OutboxPublisher:
    """Publishes outbox records through the service's producer, under the topic prefix."""

    def __init__(self, producer: RecordProducer, topic_prefix: str = "") -> None:
        self._producer = producer
        self._prefix = topic_prefix

    async def publish(self, records: Sequence[Record]) -> None:
        await self._producer.send_all(
            [
                Message(self._prefix + r.topic, r.value, key=r.key.encode(), headers=r.headers)
                for r in records
            ]
        )


def subscribe(
    broker: KafkaBroker,
    spec: TopicSpec,
    group_id: str,
    handler: EventHandler,
    *,
    topic_prefix: str = "",
    description: str = "",
) -> None:
    """Consume every event of a topic with ``handler``, at least once, in partition order.

    The body is parsed here against the topic's published events. Bad JSON, a schema
    violation or an unknown type is a poison message: it goes to the dead-letter topic and
    the partition moves on.
    """

    async def decode(message: StreamMessage[Any]) -> Event:
        try:
            return spec.parse(message.body)
        except ValueError as exc:
            raise PoisonMessage.from_validation(exc) from exc

    async def consume(event: Any) -> None:
        await handler(event)

    # The annotation gives the AsyncAPI document the topic's real payload schema.
    consume.__annotations__ = {"event": spec.payload_type, "return": None}
    broker.subscriber(
        topic_prefix + spec.name,
        group_id=group_id,
        auto_offset_reset="earliest",
        decoder=decode,
        title=f"{spec.name}:{group_id}",
        description=description or spec.description,
    )(consume)
