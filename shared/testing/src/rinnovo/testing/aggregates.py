"""``Aggregates`` in memory: the runtime's contract without a server, for fast use-case tests.

It keeps what the MongoDB store keeps (each aggregate encoded by its codec, its version,
inbox, due instant and claim) and refuses what it refuses (a stale version, an existing id,
a cause already in the inbox, a unique value already held). The events written stay in
``events``, in order, for tests to read.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from rinnovo.contracts import Event
from rinnovo.runtime.aggregates import INBOX_SIZE
from rinnovo.runtime.changes import NEVER_CLAIMED, Codec, Schedule, Stored, Taken, Write

T = TypeVar("T")


class _Entry:
    def __init__(self, fields: dict[str, Any], version: int, inbox: tuple[str, ...]) -> None:
        self.fields = fields
        self.version = version
        self.inbox = inbox
        self.claimed_until = NEVER_CLAIMED


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is None, value)


def _field(fields: Mapping[str, Any], path: str) -> Any:
    """A top-level field, or a nested one by its dotted path (``state.requested_at``)."""
    value: Any = fields
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _matches(fields: Mapping[str, Any], where: Mapping[str, Any] | None) -> bool:
    return all(_field(fields, k) == v for k, v in (where or {}).items())


class MemoryAggregates(Generic[T]):
    def __init__(
        self,
        codec: Codec[T],
        *,
        schedule: Schedule[T] | None = None,
        unique: Sequence[str] = (),
    ) -> None:
        self.codec = codec
        self.schedule = schedule
        self.unique = tuple(unique)
        self._entries: dict[str, _Entry] = {}
        self.events: list[Event] = []
        """Every event written, in order."""
        self.loads = 0
        self.writes = 0
        """Calls made, for tests of how often a use case goes to the store."""

    def _stored(self, id_: str, entry: _Entry) -> Stored[T]:
        due = self.schedule.due_of(self.codec.decode(entry.fields)) if self.schedule else None
        return Stored(id_, self.codec.decode(entry.fields), entry.version, entry.inbox, due)

    def _due(self, entry: _Entry) -> datetime | None:
        return self._stored("", entry).due_at

    async def load(self, ids: Sequence[str]) -> dict[str, Stored[T]]:
        self.loads += 1
        return {i: self._stored(i, self._entries[i]) for i in ids if i in self._entries}

    async def find(
        self,
        where: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[Stored[T]]:
        self.loads += 1
        found = [(id_, e) for id_, e in sorted(self._entries.items()) if _matches(e.fields, where)]
        for name, direction in reversed(sort):  # stable sorts, the last key first
            keys = {
                id_: _sort_key(id_ if name == "_id" else _field(e.fields, name)) for id_, e in found
            }
            found.sort(key=lambda item: keys[item[0]], reverse=direction < 0)
        return [self._stored(id_, e) for id_, e in found[: limit or None]]

    async def write(self, writes: Sequence[Write[T]]) -> list[Stored[T] | None]:
        self.writes += 1
        results: list[Stored[T] | None] = []
        taken: list[str] = []
        for w in writes:
            try:
                results.append(self._write_one(w))
            except Taken:
                taken.append(w.id)
                results.append(None)
        if taken:
            raise Taken(taken[0], results=results, taken=taken)
        return results

    def _write_one(self, w: Write[T]) -> Stored[T] | None:
        current = self._entries.get(w.id)
        fields = self.codec.encode(w.value)
        if w.before is None:
            if current is not None:
                return None
            version, inbox = w.new_version, w.causes
        else:
            if current is None or current.version != w.before.version:
                return None
            if any(cause in current.inbox for cause in w.causes):
                return None
            version = w.new_version
            inbox = (*current.inbox, *w.causes)[-INBOX_SIZE:]
        for name in self.unique:  # checked by a write that would otherwise go through
            if any(
                id_ != w.id and e.fields.get(name) == fields.get(name)
                for id_, e in self._entries.items()
            ):
                raise Taken(w.id)
        entry = _Entry(fields, version, inbox)
        self._entries[w.id] = entry
        self.events.extend(w.events)
        return self._stored(w.id, entry)

    # -- scheduled work --------------------------------------------------------------------

    def _is_due(self, entry: _Entry, now: datetime, where: Mapping[str, Any] | None) -> bool:
        if self.schedule is None:
            raise TypeError("no schedule")
        due = self._due(entry)
        return (
            due is not None
            and due <= now
            and entry.claimed_until <= now
            and _matches(entry.fields, where)
        )

    async def due(
        self, now: datetime, limit: int, where: Mapping[str, Any] | None = None
    ) -> list[str]:
        self.loads += 1
        due = [
            (self._due(e), id_) for id_, e in self._entries.items() if self._is_due(e, now, where)
        ]
        return [id_ for _, id_ in sorted(due, key=lambda d: (d[0], d[1]))][:limit]

    async def claim(
        self,
        id_: str,
        now: datetime,
        lease: timedelta,
        *,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        self.writes += 1
        entry = self._entries.get(id_)
        if entry is None or not self._is_due(entry, now, None):
            return None
        entry.claimed_until = now + lease
        entry.version += 1 if fence else 0
        if count is not None:
            *path, name = count.split(".")
            fields = entry.fields
            for part in path:
                fields = fields.setdefault(part, {})
            fields[name] = fields.get(name, 0) + 1
        return self._stored(id_, entry)

    async def claim_all(
        self, ids: Sequence[str], now: datetime, lease: timedelta
    ) -> list[Stored[T]]:
        claimed = [await self.claim(id_, now, lease) for id_ in ids]
        self.writes -= len(ids) - 1  # one update, whatever their number
        return [c for c in claimed if c is not None]

    async def claim_next(
        self,
        now: datetime,
        lease: timedelta,
        *,
        where: Mapping[str, Any] | None = None,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        due = await self.due(now, 1, where)
        return await self.claim(due[0], now, lease, fence=fence, count=count) if due else None
