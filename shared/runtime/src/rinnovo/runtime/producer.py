"""The producer outbox records and dead letters leave through, replaced when it breaks.

aiokafka's idempotent producer numbers the batches of each partition. A batch that expires
while its partition has no leader (a broker restart slower than the request timeout) is
failed after it took its sequence number; the broker then refuses every later batch of that
partition as out of order, and the producer never recovers (aio-libs/aiokafka#1017): every
event of that partition would wait in its outbox until the process restarts.

So a send that fails with an error the producer cannot get past discards it, and the next
send starts a new producer session (a new producer id, sequences from zero). Records the
failed send had already written are written again: at least once, as everywhere else;
consumers drop an event whose id they have already seen.
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)

log = structlog.get_logger(__name__)

BROKEN = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
    ProducerClosed,
)
"""Errors after which this producer session can send nothing more."""

DISCARD_SECONDS = 10.0
"""How long a broken producer may take to close before it is left behind."""


@dataclass(frozen=True)
class Message:
    topic: str
    value: bytes
    key: bytes | None = None
    headers: Mapping[str, str] | None = None


class RecordProducer:
    """An idempotent producer (``acks=all``) started on first use and replaced once broken."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self._options = {**options, "enable_idempotence": True, "acks": "all"}
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self.sessions = 0
        """Producer sessions started so far: more than one means one was replaced."""

    async def send_all(self, messages: Sequence[Message]) -> None:
        """Send all, then wait for every acknowledgement: one round trip per batch, and each
        partition keeps its order."""
        producer = await self._current()
        try:
            pending = [
                await producer.send(
                    m.topic,
                    m.value,
                    key=m.key,
                    headers=[(k, v.encode()) for k, v in (m.headers or {}).items()],
                )
                for m in messages
            ]
            await asyncio.gather(*pending)
        except BROKEN as exc:
            log.warning("producer session broken; a new one takes over", error=repr(exc))
            await self._discard(producer)
            raise

    async def stop(self) -> None:
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    async def _current(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(**self._options)
                await producer.start()  # Kafka away: raises, and nothing is kept
                self._producer = producer
                self.sessions += 1
            return self._producer

    async def _discard(self, producer: AIOKafkaProducer) -> None:
        async with self._lock:
            if self._producer is producer:
                self._producer = None
        try:
            # A broken session's sender has stopped, so this does not wait on a flush.
            await asyncio.wait_for(producer.stop(), DISCARD_SECONDS)
        except Exception:
            log.warning("a broken producer did not close cleanly", exc_info=True)
