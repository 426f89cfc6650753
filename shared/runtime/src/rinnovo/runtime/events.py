"""Building events and turning them into Kafka records."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from rinnovo.contracts import Event, topic_for
from rinnovo.runtime import tracing

E = TypeVar("E", bound=Event)


def new_event(
    cls: type[E],
    *,
    payload: Any,
    producer: str,
    aggregate_id: str,
    aggregate_version: int,
    occurred_at: datetime,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> E:
    """A new event with a fresh id; a flow without a correlation id starts one here."""
    event_id = uuid.uuid4()
    return cls(
        event_id=event_id,
        type=cls.event_type(),
        schema_version=cls.model_fields["schema_version"].default,
        occurred_at=occurred_at,
        producer=producer,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        correlation_id=correlation_id or str(event_id),
        causation_id=causation_id,
        payload=payload,
    )


@dataclass(frozen=True)
class Record:
    """One Kafka record, ready to publish: what the outbox stores."""

    event_id: str
    topic: str
    key: str
    value: bytes
    headers: Mapping[str, str]

    @classmethod
    def of(cls, event: Event, trace: Mapping[str, str] | None = None) -> "Record":
        """``trace``: the context the event was decided in, if not the current one."""
        return cls(
            event_id=str(event.event_id),
            topic=topic_for(type(event)).name,
            key=event.aggregate_id,
            value=event.model_dump_json().encode(),
            # The context the event is written in: its publication continues that trace.
            headers=cloudevents_headers(event)
            | (tracing.context_headers() if trace is None else dict(trace)),
        )

    @property
    def time(self) -> datetime | None:
        """When its event occurred (by its producer's clock), if the record says."""
        stamped = self.headers.get("ce_time")
        return None if stamped is None else datetime.fromisoformat(stamped)

    def to_document(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "topic": self.topic,
            "key": self.key,
            "value": self.value.decode(),
            "headers": dict(self.headers),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> "Record":
        return cls(
            event_id=doc["event_id"],
            topic=doc["topic"],
            key=doc["key"],
            value=doc["value"].encode(),
            headers=doc["headers"],
        )


def cloudevents_headers(event: Event) -> dict[str, str]:
    """CloudEvents Kafka binding, binary mode, plus our own envelope attributes."""
    return {
        "content-type": "application/json",
        "ce_specversion": "1.0",
        "ce_id": str(event.event_id),
        "ce_type": event.type,
        "ce_source": f"rinnovo/{event.producer}",
        "ce_time": event.occurred_at.isoformat(),
        "ce_subject": event.aggregate_id,
        "correlation_id": event.correlation_id,
    }
