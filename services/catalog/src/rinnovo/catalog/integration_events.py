"""The published events of the catalog: each change publishes the whole new snapshot, on a
compacted topic keyed by the product or code."""

from datetime import datetime

from pydantic import BaseModel

from rinnovo.contracts import Event
from rinnovo.runtime.events import new_event

PRODUCER = "catalog"


def snapshot_published(
    event: type[Event],
    snapshot: BaseModel,
    aggregate_id: str,
    version: int,
    at: datetime,
    correlation_id: str | None = None,
) -> Event:
    return new_event(
        event,
        payload=snapshot,
        producer=PRODUCER,
        aggregate_id=aggregate_id,
        aggregate_version=version,
        occurred_at=at,
        correlation_id=correlation_id,
    )
