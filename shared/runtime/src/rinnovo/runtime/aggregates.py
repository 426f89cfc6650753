"""Version-guarded single-document writes that carry their events and their inbox: the
document layout under ``rinnovo.runtime.changes``, the one way services change aggregates.

Every state change of an aggregate is one ``update_one`` that, together:
- checks the version it read (optimistic concurrency; no lost updates),
- sets the new state and bumps the version by one per event,
- pushes the new events into the document's outbox (published later by the relay),
- records the id of the event that caused it in the inbox (so a redelivery is a no-op).

With tracing on, a new aggregate and a change with events also keep the trace context they
were written in (``tracing.TRACE``): work that continues the flow later, outside it,
resumes that trace.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.contracts import Event
from rinnovo.runtime import tracing
from rinnovo.runtime.events import Record
from rinnovo.runtime.outbox import OUTBOX, PENDING

INBOX = "inbox"
VERSION = "version"
INBOX_SIZE = 200
"""Event ids remembered per aggregate: more than can be redelivered in practice, since
offsets are committed after each batch and a batch holds at most this many records (the
consumer's batch size is bounded by it). A replay
from the start of a topic goes further back: there the domain's own guards (versions,
states, the orders a service has applied) make old events change nothing."""


class VersionConflict(Exception):
    """Someone else changed the aggregate since it was read; read again and retry."""


@dataclass(frozen=True)
class Change:
    """A new state of an aggregate and the events it emits."""

    state: Mapping[str, Any]
    events: Sequence[Event] = ()
    caused_by: str | None = None
    """Id of the consumed event that caused the change, recorded in the inbox."""


def _outbox(events: Sequence[Event], traces: Sequence[Mapping[str, str]]) -> list[Any]:
    if len(traces) != len(events):
        return [Record.of(e).to_document() for e in events]
    return [Record.of(e, t).to_document() for e, t in zip(events, traces, strict=True)]


def _flow(trace: Mapping[str, str] | None) -> Mapping[str, str]:
    """The trace context an aggregate keeps: its last change's, else the current one."""
    return tracing.context_headers() if trace is None else trace


def already_processed(doc: Mapping[str, Any] | None, event_id: str) -> bool:
    return doc is not None and event_id in doc.get(INBOX, ())


def new_document(
    aggregate_id: str,
    state: Mapping[str, Any],
    events: Sequence[Event] = (),
    causes: Sequence[str] = (),
    version: int | None = None,
    traces: Sequence[Mapping[str, str]] = (),
    trace: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The document of a new aggregate: at version 1, or the number of its first events.
    ``traces`` and ``trace``: the contexts it was decided in, if not the current one
    (``Write.traces``)."""
    doc: dict[str, Any] = {
        "_id": aggregate_id,
        **state,
        VERSION: max(1, len(events)) if version is None else version,
        OUTBOX: _outbox(events, traces),
        INBOX: list(causes),
    }
    if events:
        doc[PENDING] = True
    if trace := _flow(trace):
        doc[tracing.TRACE] = trace
    return doc


def guarded_update(
    aggregate_id: str,
    expected_version: int,
    state: Mapping[str, Any],
    events: Sequence[Event] = (),
    causes: Sequence[str] = (),
    version: int | None = None,
    traces: Sequence[Mapping[str, str]] = (),
    trace: Mapping[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Filter and update of a change over ``expected_version``, and the version it gives
    (``version``, or one more per event)."""
    if version is None:
        version = expected_version + max(1, len(events))
    filter_: dict[str, Any] = {"_id": aggregate_id, VERSION: expected_version}
    set_: dict[str, Any] = {**state, VERSION: version}
    push: dict[str, Any] = {}
    if events:
        set_[PENDING] = True
        push[OUTBOX] = {"$each": _outbox(events, traces)}
        if trace := _flow(trace):
            set_[tracing.TRACE] = trace
    if causes:
        filter_[INBOX] = {"$ne": causes[0]} if len(causes) == 1 else {"$nin": list(causes)}
        push[INBOX] = {"$each": list(causes), "$slice": -INBOX_SIZE}
    update_doc: dict[str, Any] = {"$set": set_}
    if push:
        update_doc["$push"] = push
    return filter_, update_doc, version


async def insert(
    collection: AsyncCollection[dict[str, Any]], aggregate_id: str, change: Change
) -> int:
    """Create an aggregate at version 1 (or the number of its first events)."""
    causes = [change.caused_by] if change.caused_by else []
    doc = new_document(aggregate_id, change.state, change.events, causes)
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError as exc:
        raise VersionConflict(aggregate_id) from exc
    version: int = doc[VERSION]
    return version


async def update(
    collection: AsyncCollection[dict[str, Any]],
    aggregate_id: str,
    expected_version: int,
    change: Change,
) -> int:
    """Apply a change if the aggregate is still at ``expected_version``; returns the new one."""
    causes = [change.caused_by] if change.caused_by else []
    filter_, update_doc, version = guarded_update(
        aggregate_id, expected_version, change.state, change.events, causes
    )
    result = await collection.update_one(filter_, update_doc)
    if result.matched_count == 0:
        raise VersionConflict(aggregate_id)
    return version


Decide = Callable[[Mapping[str, Any] | None], Change | None]


async def apply_once(
    collection: AsyncCollection[dict[str, Any]],
    aggregate_id: str,
    event_id: str,
    decide: Decide,
) -> bool:
    """Apply the change an event causes to one aggregate, at most once.

    ``decide`` gets the current document (``None`` if there is none) and returns the change,
    or ``None`` when the event asks for nothing. On a concurrent change it runs again on the
    fresh document. Returns False when the event was already processed or changed nothing.
    """
    while True:
        doc = await collection.find_one({"_id": aggregate_id})
        if already_processed(doc, event_id):
            return False
        change = decide(doc)
        if change is None:
            return False
        change = Change(change.state, change.events, caused_by=event_id)
        try:
            if doc is None:
                await insert(collection, aggregate_id, change)
            else:
                await update(collection, aggregate_id, doc[VERSION], change)
        except VersionConflict:
            continue
        return True
