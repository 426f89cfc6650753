"""Kafka wiring: the broker, topics, the publisher the outbox uses, and subscriptions."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
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
from rinnovo.runtime.settings import InfraSettings

EventHandler = Callable[[Event], Awaitable[None]]


def make_broker(infra: InfraSettings, service: str, metrics: Metrics) -> KafkaBroker:
    """Idempotent producer with ``acks=all``; consumers acknowledge after the work is stored."""
    dead_letters = DeadLetterMiddleware(service=service, metrics=metrics)
    broker = KafkaBroker(
        infra.kafka_bootstrap_servers,
        client_id=f"rinnovo-{service}",
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        allow_auto_create_topics=False,
        middlewares=(
            KafkaPrometheusMiddleware(registry=metrics.registry, app_name=service),
            dead_letters,
        ),
        logger=None,
    )
    dead_letters.broker = broker
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
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
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


class BrokerPublisher:
    """Publishes outbox records through the broker's idempotent producer."""

    def __init__(
        self,
        broker: KafkaBroker,
        topic_prefix: str = "",
        stamp: Callable[[Record], Mapping[str, str]] = lambda _: {},
    ) -> None:
        self._broker = broker
        self._prefix = topic_prefix
        self._stamp = stamp  # headers added on the way out (the registry's schema id)

    async def publish(self, records: Sequence[Record]) -> None:
        # Send all, then wait for every acknowledgement: one round trip per batch, and the
        # idempotent producer keeps each partition's order.
        pending = [
            await self._broker.publish(
                r.value,
                self._prefix + r.topic,
                key=r.key.encode(),
                headers={**r.headers, **self._stamp(r)},
                no_confirm=True,
            )
            for r in records
        ]
        await asyncio.gather(*pending)


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
