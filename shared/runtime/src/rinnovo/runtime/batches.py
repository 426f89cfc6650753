"""Consuming in batches: each key's events in partition order, different keys together.

A service has one consumer for all its topics; each batch it fetches is handled here, and
its offsets are committed once ``handle`` returns, so only after every effect is stored:

1. every record is decoded against its topic's events; one that cannot be (bad JSON, a
   schema violation, an unknown type) goes to the dead-letter topic alone, with its reason;
2. the rest are grouped by key; each key's events run one after the other, in partition
   order, while different keys run at the same time, all inside one unit of work
   (``unit_of_work``): the handlers' reads become one query per store and moment, and their
   changes stay in memory;
3. the unit of work writes each changed aggregate once, then wakes the relay;
4. the events whose work could not all be stored (a write lost to a concurrent HTTP request
   or scheduler, a handler that failed, whatever depended on them) are handled again alone,
   in order, as every message was before batches (``DeadLetters.handle_alone``): the inbox
   makes what was stored a no-op, a poison message goes to the dead-letter topic.

The database or the broker away at any step: the whole batch is tried again, with back-off,
and nothing is committed meanwhile.
"""

import functools
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import structlog
from aiokafka import ConsumerRecord

from rinnovo.contracts import Event, TopicSpec
from rinnovo.runtime import tracing
from rinnovo.runtime.dead_letters import DeadLetters, PoisonMessage, retrying
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.together import run_together

log = structlog.get_logger(__name__)

EventHandler = Callable[[Event], Awaitable[None]]
KafkaRecord: TypeAlias = ConsumerRecord[Any, Any]


@dataclass(frozen=True)
class Subscription:
    topic: str
    """As consumed: with the deployment's prefix."""
    spec: TopicSpec
    handler: EventHandler


@dataclass(frozen=True)
class Consumed:
    record: KafkaRecord
    event: Event
    handler: EventHandler


Keyed = dict[Hashable, list[Consumed]]


def by_key(consumed: Sequence[Consumed]) -> Keyed:
    """The events of each key in partition order (a record without a key: its partition's)."""
    keys: Keyed = {}
    for c in sorted(consumed, key=lambda c: (c.record.topic, c.record.partition, c.record.offset)):
        r = c.record
        key = (r.topic, r.key) if r.key is not None else (r.topic, r.partition, None)
        keys.setdefault(key, []).append(c)
    return keys


class BatchConsumer:
    def __init__(
        self,
        subscriptions: Sequence[Subscription],
        dead_letters: DeadLetters,
        metrics: Metrics,
    ) -> None:
        self._subscriptions = {s.topic: s for s in subscriptions}
        self._dead_letters = dead_letters
        self._metrics = metrics

    @property
    def topics(self) -> list[str]:
        return list(self._subscriptions)

    async def handle(self, records: Sequence[KafkaRecord]) -> None:
        """Handle a batch; returns once every effect is stored."""
        consumed: list[Consumed] = []
        poison: list[tuple[KafkaRecord, str, str]] = []
        for record in records:
            subscription = self._subscriptions[record.topic]
            try:
                event = subscription.spec.parse(record.value or b"")
            except ValueError as exc:
                found = PoisonMessage.from_validation(exc)
                poison.append((record, found.kind, found.reason))
                continue
            consumed.append(Consumed(record, event, subscription.handler))
        await self._retried(records, lambda: self._dead_letters.send(poison))
        again = await self._retried(records, lambda: self._batched(by_key(consumed)))
        for events in again:
            for c in events:
                await self._dead_letters.handle_alone(c.record, c.event, c.handler)

    async def _retried(
        self, records: Sequence[KafkaRecord], work: Callable[[], Awaitable[Any]]
    ) -> Any:
        async for attempt in retrying():
            with attempt:
                if attempt.num > 1:
                    self._metrics.transient_retries.labels(records[0].topic).inc()
                return await work()
        raise AssertionError("unreachable: retried until it returns")  # pragma: no cover

    async def _batched(self, keys: Keyed) -> list[list[Consumed]]:
        """Run the keys together in one unit of work, write it; what to handle again alone.
        Raises (and writes nothing) if the database or the broker is away."""
        steps = {
            key: [functools.partial(_handle, c) for c in events] for key, events in keys.items()
        }
        first = await run_together(steps)
        return [keys[key][first[key] :] for key in keys if key in first]


async def _handle(c: Consumed) -> None:
    structlog.contextvars.bind_contextvars(
        correlation_id=c.event.correlation_id,
        event_id=str(c.event.event_id),
        topic=c.record.topic,
    )
    with tracing.consuming(c.record.topic, c.record.headers):
        await c.handler(c.event)
