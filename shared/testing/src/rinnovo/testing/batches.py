"""Consumed batches without a broker, for fast tests of ``rinnovo.runtime.batches``: records
made from events (or raw bodies), and a producer that keeps what it is asked to send (the
dead letters)."""

from collections.abc import Sequence

from aiokafka import ConsumerRecord

from rinnovo.contracts import Event, TopicSpec
from rinnovo.runtime.batches import BatchConsumer, EventHandler, Subscription
from rinnovo.runtime.dead_letters import DeadLetters
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.producer import Message


def record(
    topic: str,
    body: Event | bytes,
    offset: int,
    *,
    key: str | None = None,
    partition: int = 0,
) -> ConsumerRecord[bytes, bytes]:
    """A record as a consumer fetches it; an event's key is its aggregate id by default."""
    if isinstance(body, Event):
        key = body.aggregate_id if key is None else key
        body = body.model_dump_json().encode()
    encoded = None if key is None else key.encode()
    return ConsumerRecord(topic, partition, offset, 0, 0, encoded, body, None, 0, len(body), [])


class KeptMessages:
    """Stands in for the ``RecordProducer``: keeps every message it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send_all(self, messages: Sequence[Message]) -> None:
        self.sent.extend(messages)

    def reasons(self) -> list[str]:
        """The ``dlt-reason`` of each dead letter sent, in order."""
        return [(m.headers or {})["dlt-reason"] for m in self.sent]


def batch_consumer(
    handlers: Sequence[tuple[TopicSpec, EventHandler]],
    metrics: Metrics | None = None,
) -> tuple[BatchConsumer, KeptMessages]:
    """A consumer of these topics (unprefixed), and the producer of its dead letters."""
    kept = KeptMessages()
    metrics = metrics or Metrics()
    letters = DeadLetters("test", metrics, kept)
    subscriptions = [Subscription(spec.name, spec, handler) for spec, handler in handlers]
    return BatchConsumer(subscriptions, letters, metrics), kept
