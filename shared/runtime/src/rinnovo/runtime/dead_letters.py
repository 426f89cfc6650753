"""Poison messages go to ``<topic>.DLT``; transient failures are retried, never skipped.

- Bad JSON, a schema violation or an unknown event type: published to the dead-letter topic
  with the original topic, partition, offset and the reason in headers, then acknowledged,
  so the partition keeps flowing.
- The database or the broker away: retried with back-off for as long as it takes.
- Any other handler error (a bug, an event the domain cannot accept): retried a few times,
  then dead-lettered with the error, so one bad message cannot stop a partition. An operator
  replays it from the DLT once the cause is fixed.
"""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import stamina
import structlog
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from faststream import BaseMiddleware
from faststream._internal.context.repository import ContextRepo
from faststream.message import StreamMessage
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure, OperationFailure, WTimeoutError

from rinnovo.contracts.topics import DLT_SUFFIX
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.producer import Message, RecordProducer

log = structlog.get_logger(__name__)

HANDLER_ATTEMPTS = 3
MAX_REASON = 2000


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


class DeadLetterMiddleware:
    """Broker middleware factory: one ``_DeadLetterScope`` per consumed message."""

    def __init__(self, service: str, metrics: Metrics, producer: RecordProducer) -> None:
        self.service = service
        self.metrics = metrics
        self.producer = producer

    def __call__(self, msg: Any, /, *, context: ContextRepo) -> "_DeadLetterScope":
        return _DeadLetterScope(msg, context=context, factory=self)


class _DeadLetterScope(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: ContextRepo, factory: DeadLetterMiddleware):
        super().__init__(msg, context=context)
        self.factory = factory

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        record: ConsumerRecord[Any, Any] = self.msg
        event = await msg.decode()
        structlog.contextvars.bind_contextvars(
            correlation_id=getattr(event, "correlation_id", None),
            event_id=str(getattr(event, "event_id", "")),
            topic=record.topic,
        )
        try:
            async for attempt in stamina.retry_context(
                on=_retry_in_place, attempts=None, timeout=None, wait_initial=0.1, wait_max=5.0
            ):
                with attempt:
                    if attempt.num > 1:
                        self.factory.metrics.transient_retries.labels(record.topic).inc()
                    return await _with_handler_attempts(call_next, msg)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "event_id", "topic")
        return None  # pragma: no cover - the loop returns or raises

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,
    ) -> bool:
        if isinstance(exc_val, PoisonMessage):
            await self._dead_letter(exc_val.kind, exc_val.reason)
            return True
        if isinstance(exc_val, HandlerFailed):
            await self._dead_letter("handler_error", repr(exc_val.__cause__))
            return True
        return False  # transient or cancelled: the message is not acknowledged

    async def _dead_letter(self, kind: str, reason: str) -> None:
        record: ConsumerRecord[Any, Any] = self.msg
        headers = {k: v.decode(errors="replace") for k, v in (record.headers or ())}
        headers |= {
            "dlt-original-topic": record.topic,
            "dlt-original-partition": str(record.partition),
            "dlt-original-offset": str(record.offset),
            "dlt-consumer-group": f"rinnovo-{self.factory.service}",
            "dlt-reason": kind,
            "dlt-error": reason[:MAX_REASON],
            "dlt-failed-at": datetime.now(UTC).isoformat(),
        }
        await self.factory.producer.send_all(
            [Message(record.topic + DLT_SUFFIX, record.value or b"", record.key, headers)]
        )
        self.factory.metrics.dead_letters.labels(record.topic, kind).inc()
        log.warning(
            "message dead-lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=kind,
            error=reason[:MAX_REASON],
        )


class HandlerFailed(Exception):
    """The handler kept failing for a reason that waiting will not fix."""


def _retry_in_place(exc: Exception) -> bool:
    return is_transient(exc)


async def _with_handler_attempts(
    call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
) -> Any:
    for attempt in range(1, HANDLER_ATTEMPTS + 1):
        try:
            return await call_next(msg)
        except PoisonMessage:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            if attempt == HANDLER_ATTEMPTS:
                raise HandlerFailed() from exc
            log.warning("handler failed; trying again", attempt=attempt, exc_info=True)
    return None  # pragma: no cover
