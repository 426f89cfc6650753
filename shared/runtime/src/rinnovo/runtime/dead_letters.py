"""Poison messages go to ``<topic>.DLT``; transient failures are retried, never skipped.

- Bad JSON, a schema violation or an unknown event type: published to the dead-letter topic
  with the original topic, partition, offset and the reason in headers, then acknowledged,
  so the partition keeps flowing.
- The database or the broker away: retried with back-off for as long as it takes.
- Any other handler error (a bug, an event the domain cannot accept): retried a few times,
  then dead-lettered with the error, so one bad message cannot stop a partition. An operator
  replays it from the DLT once the cause is fixed.
"""

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import stamina
import structlog
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, OperationFailure, WTimeoutError

from rinnovo.contracts.topics import DLT_SUFFIX
from rinnovo.runtime import tracing
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.producer import Message

log = structlog.get_logger(__name__)

HANDLER_ATTEMPTS = 3
MAX_REASON = 2000

Handler = Callable[[Any], Awaitable[None]]


class PoisonMessage(Exception):
    """A message that can never be processed as it is."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason

    @classmethod
    def from_validation(cls, exc: ValueError) -> "PoisonMessage":
        if not isinstance(exc, ValidationError):
            return cls("invalid_json", str(exc))
        errors = exc.errors(include_url=False)
        kinds = {e["type"] for e in errors}
        if "json_invalid" in kinds or "json_type" in kinds:
            return cls("invalid_json", errors[0]["msg"])
        if (
            "union_tag_invalid" in kinds
            or "union_tag_not_found" in kinds
            or any(e["loc"][:1] == ("type",) for e in errors)
        ):
            return cls("unknown_type", _describe(errors))
        return cls("schema_violation", _describe(errors))


def _describe(errors: Any) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)


def is_transient(exc: Exception) -> bool:
    """Failures that go away by themselves: the database or the broker unreachable."""
    if isinstance(exc, ConnectionFailure | WTimeoutError | KafkaError):
        return True
    # Primary stepping down and similar: the server says the write may be retried.
    return isinstance(exc, OperationFailure) and exc.has_error_label("RetryableWriteError")


class Sends(Protocol):
    async def send_all(self, messages: Sequence[Message]) -> None: ...


class DeadLetters:
    """Sends what cannot be processed to ``<topic>.DLT``, and handles one message alone as
    every message was before batches: transient failures retried in place, any other
    failure tried ``HANDLER_ATTEMPTS`` times, then dead-lettered with its reason."""

    def __init__(self, service: str, metrics: Metrics, producer: Sends, group: str = "") -> None:
        self.service = service
        self.group = group or f"rinnovo-{service}"
        self.metrics = metrics
        self.producer = producer

    async def handle_alone(
        self, record: ConsumerRecord[Any, Any], event: Any, handler: Handler
    ) -> None:
        structlog.contextvars.bind_contextvars(
            correlation_id=getattr(event, "correlation_id", None),
            event_id=str(getattr(event, "event_id", "")),
            topic=record.topic,
        )
        try:
            async for attempt in retrying():
                with attempt:
                    if attempt.num > 1:
                        self.metrics.transient_retries.labels(record.topic).inc()
                    with tracing.consuming(record.topic, record.headers):
                        await self._attempts(record, event, handler)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "event_id", "topic")

    async def _attempts(
        self, record: ConsumerRecord[Any, Any], event: Any, handler: Handler
    ) -> None:
        try:
            await _with_handler_attempts(handler, event)
        except PoisonMessage as poison:
            await self.send([(record, poison.kind, poison.reason)])
        except HandlerFailed as failed:
            await self.send([(record, "handler_error", repr(failed.__cause__))])

    async def send(self, letters: Sequence[tuple[ConsumerRecord[Any, Any], str, str]]) -> None:
        """Dead-letter these records, each with its reason, in one send."""
        if not letters:
            return
        now = datetime.now(UTC).isoformat()
        await self.producer.send_all(
            [self._letter(record, kind, reason, now) for record, kind, reason in letters]
        )
        for record, kind, reason in letters:
            self.metrics.dead_letters.labels(record.topic, kind).inc()
            log.warning(
                "message dead-lettered",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=kind,
                error=reason[:MAX_REASON],
            )

    def _letter(
        self, record: ConsumerRecord[Any, Any], kind: str, reason: str, now: str
    ) -> Message:
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        headers |= {
            "dlt-original-topic": record.topic,
            "dlt-original-partition": str(record.partition),
            "dlt-original-offset": str(record.offset),
            "dlt-consumer-group": self.group,
            "dlt-service": self.service,
            "dlt-reason": kind,
            "dlt-error": reason[:MAX_REASON],
            "dlt-failed-at": now,
        }
        return Message(record.topic + DLT_SUFFIX, record.value or b"", record.key, headers)


def retrying() -> Any:
    """Attempts of some work, for as long as the database or the broker is away."""
    return stamina.retry_context(
        on=is_transient, attempts=None, timeout=None, wait_initial=0.1, wait_max=5.0
    )


class HandlerFailed(Exception):
    """The handler kept failing for a reason that waiting will not fix."""


async def _with_handler_attempts(handler: Handler, event: Any) -> None:
    for attempt in range(1, HANDLER_ATTEMPTS + 1):
        try:
            await handler(event)
            return
        except PoisonMessage:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            if attempt == HANDLER_ATTEMPTS:
                raise HandlerFailed() from exc
            log.warning("handler failed; trying again", attempt=attempt, exc_info=True)
