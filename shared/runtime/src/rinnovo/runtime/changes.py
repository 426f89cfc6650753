"""One way to change an aggregate: read, decide, write guarded by version, retry on conflict.

A use case hands ``Changes.change`` an aggregate id and a decision: a pure function of the
stored aggregate returning its new state and events (``Decision``), or ``None`` for
nothing to do. The primitive reads the aggregate, skips a cause already in its inbox, writes
state + inbox id + outbox events in one version-guarded write, reads and decides again when
someone else wrote meanwhile, and wakes the relay once events are stored.

Below it, ``Aggregates`` (``rinnovo.runtime.stores``) is the whole contract a store keeps.
It is batch-shaped so that a consumer can load a batch's aggregates in one query, decide each,
and write them all in one call, without changing the use cases: while a consumer handles a
batch, ``Changes`` hands every call to the batch's unit of work (``OPEN_BATCH``,
``rinnovo.runtime.unit_of_work``), which keeps the changes in memory and writes each changed
aggregate once at the end.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from rinnovo.contracts import Event
from rinnovo.runtime.stores import CLAIMED_BY as CLAIMED_BY
from rinnovo.runtime.stores import CLAIMED_UNTIL as CLAIMED_UNTIL
from rinnovo.runtime.stores import NEVER_CLAIMED as NEVER_CLAIMED
from rinnovo.runtime.stores import Aggregates as Aggregates
from rinnovo.runtime.stores import Codec as Codec
from rinnovo.runtime.stores import Schedule as Schedule
from rinnovo.runtime.stores import Stored as Stored
from rinnovo.runtime.stores import Taken as Taken
from rinnovo.runtime.stores import Write as Write

T = TypeVar("T")


@dataclass(frozen=True)
class Decision(Generic[T]):
    """What a decision returns: the new state and the events it emits (in order)."""

    value: T
    events: Sequence[Event] = ()


@dataclass(frozen=True)
class Changed(Generic[T]):
    """What ``Changes.change`` did: the aggregate as it is now, and the events it wrote."""

    stored: Stored[T]
    events: tuple[Event, ...] = ()
    written: bool = False
    duplicate: bool = False
    """The cause was in the inbox already: nothing was decided."""

    @property
    def value(self) -> T:
        return self.stored.value


class Missing(LookupError):
    """The aggregate to change does not exist."""


Decide = Callable[[Stored[T]], Decision[T] | None]


def cause_id(cause: Event | str | None) -> str | None:
    return str(cause.event_id) if isinstance(cause, Event) else cause


class Batch(Protocol):
    """The unit of work of a batch of consumed events, which ``Changes`` hands its calls to
    while it is open (``rinnovo.runtime.unit_of_work.UnitOfWork``)."""

    open: bool

    async def get(self, changes: "Changes[Any]", id_: str) -> Stored[Any] | None: ...

    async def find(
        self,
        changes: "Changes[Any]",
        where: Mapping[str, Any],
        sort: Sequence[tuple[str, int]],
        limit: int,
    ) -> list[Stored[Any]]: ...

    async def change(
        self,
        changes: "Changes[Any]",
        id_: str,
        decide: Decide[Any],
        cause: str | None,
        read: Stored[Any] | None,
        before: Callable[[Stored[Any]], Awaitable[None]] | None,
    ) -> Changed[Any]: ...

    async def create(
        self,
        changes: "Changes[Any]",
        id_: str,
        value: Any,
        events: Sequence[Event],
        cause: str | None,
    ) -> Changed[Any] | None: ...


OPEN_BATCH: ContextVar[Batch | None] = ContextVar("rinnovo_open_batch", default=None)
"""The unit of work of the batch the current task handles, if any."""


def open_batch() -> Batch | None:
    batch = OPEN_BATCH.get()
    return batch if batch is not None and batch.open else None


@dataclass
class Changes(Generic[T]):
    """Changes of one kind of aggregate, each read → decide → one guarded write."""

    store: Aggregates[T]
    on_events: Callable[[], None] = field(default=lambda: None)
    """Called once events are stored, so the relay publishes them without waiting a poll."""
    on_due: Callable[[datetime], None] | None = None
    """Called with the due instant of each aggregate written with one, so that work already
    due when it is written is taken at once, not at the scheduler's next sweep."""

    async def get(self, id_: str) -> Stored[T] | None:
        if (batch := open_batch()) is not None:
            return await batch.get(self, id_)
        return (await self.store.load([id_])).get(id_)

    async def find(
        self,
        where: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[Stored[T]]:
        if (batch := open_batch()) is not None:
            return await batch.find(self, where, sort, limit)
        return await self.store.find(where, sort=sort, limit=limit)

    async def change(
        self,
        id_: str,
        decide: Decide[T],
        *,
        cause: Event | str | None = None,
        read: Stored[T] | None = None,
        before: Callable[[Stored[T]], Awaitable[None]] | None = None,
    ) -> Changed[T]:
        """Apply a decision to one aggregate, at most once per cause.

        ``read`` is the aggregate the caller already read (it is decided on first, sparing a
        read); on a conflict the aggregate is read again and decided again. ``before`` runs
        on each aggregate read, before deciding on it: what the decision needs first that
        takes I/O (reading what it depends on, an idempotent write elsewhere). Raises
        ``Missing`` when there is no aggregate ``id_``; whatever ``decide`` raises goes up.
        """
        caused_by = cause_id(cause)
        if (batch := open_batch()) is not None:
            return await batch.change(self, id_, decide, caused_by, read, before)
        stored = read
        while True:
            if stored is None and (stored := await self.get(id_)) is None:
                raise Missing(id_)
            if caused_by is not None and caused_by in stored.inbox:
                return Changed(stored, duplicate=True)
            if before is not None:
                await before(stored)
            decision = decide(stored)
            if decision is None:
                return Changed(stored)
            causes = (caused_by,) if caused_by else ()
            write = Write(id_, decision.value, tuple(decision.events), stored, causes)
            [after] = await self.store.write([write])
            if after is None:
                stored = None  # changed meanwhile: read again, decide again
                continue
            return self.written(after, write)

    async def create(
        self,
        id_: str,
        value: T,
        events: Sequence[Event] = (),
        *,
        cause: Event | str | None = None,
    ) -> Changed[T] | None:
        """Store a new aggregate with its first events; None if one with this id exists."""
        caused_by = cause_id(cause)
        if (batch := open_batch()) is not None:
            return await batch.create(self, id_, value, tuple(events), caused_by)
        write = Write(id_, value, tuple(events), None, (caused_by,) if caused_by else ())
        [after] = await self.store.write([write])
        return None if after is None else self.written(after, write)

    def written(self, after: Stored[T], write: Write[T]) -> Changed[T]:
        if write.events:
            self.on_events()
        if after.due_at is not None and self.on_due is not None:
            self.on_due(after.due_at)
        return Changed(after, tuple(write.events), written=True)

    # -- scheduled work ------------------------------------------------------------------

    async def due(
        self, now: datetime, limit: int, where: Mapping[str, Any] | None = None
    ) -> list[str]:
        return await self.store.due(now, limit, where)

    async def claim(
        self,
        id_: str,
        now: datetime,
        lease: timedelta,
        *,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        return await self.store.claim(id_, now, lease, fence=fence, count=count)

    async def claim_all(
        self, ids: Sequence[str], now: datetime, lease: timedelta
    ) -> list[Stored[T]]:
        return await self.store.claim_all(ids, now, lease)

    async def claim_next(
        self,
        now: datetime,
        lease: timedelta,
        *,
        where: Mapping[str, Any] | None = None,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        return await self.store.claim_next(now, lease, where=where, fence=fence, count=count)
