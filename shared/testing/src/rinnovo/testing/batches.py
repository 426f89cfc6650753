"""Consumed batches without a broker, for fast tests of ``rinnovo.runtime.batches``: records
made from events (or raw bodies), a producer that keeps what it is asked to send (the dead
letters), and a small aggregate to count with: a ``Tally`` of the panel's usage events, each
changed by the events of its service id (a measure of ``POISON`` is refused as poison)."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from rinnovo.contracts import Event, TopicSpec
from rinnovo.contracts.panel import UsageReported, UsageReportedPayload
from rinnovo.runtime.batches import BatchConsumer, EventHandler, Subscription
from rinnovo.runtime.changes import Changes, Decision, Stored
from rinnovo.runtime.dead_letters import DeadLetters, PoisonMessage
from rinnovo.runtime.documents import StateCodec
from rinnovo.runtime.events import new_event
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.producer import Message

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POISON = 666
"""A measure the handlers refuse as poison."""


@dataclass(frozen=True)
class Tally:
    owner: str
    count: int = 0
    seen: tuple[int, ...] = ()


CODEC = StateCodec(Tally)


def usage(service_id: str, n: int) -> UsageReported:
    return new_event(
        UsageReported,
        payload=UsageReportedPayload(service_id=service_id, used_bytes=n, measured_at=NOW),
        producer="panel",
        aggregate_id=service_id,
        aggregate_version=n + 1,
        occurred_at=NOW,
    )


def add(event: Event) -> Callable[[Stored[Tally]], Decision[Tally]]:
    """Counts the event and notes its measure, unless it is ``POISON``."""
    n = event.payload.used_bytes

    def decide(s: Stored[Tally]) -> Decision[Tally]:
        if n == POISON:
            raise PoisonMessage("refused", "a measure of the beast")
        return Decision(replace(s.value, count=s.value.count + 1, seen=(*s.value.seen, n)))

    return decide


def counting(changes: Changes[Tally]) -> Callable[[Event], Awaitable[None]]:
    """A handler adding each event to the tally of its service id."""

    async def handle(event: Event) -> None:
        await changes.change(event.payload.service_id, add(event), cause=event)

    return handle


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
