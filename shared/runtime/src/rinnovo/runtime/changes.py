"""One way to change an aggregate: read, decide, write guarded by version, retry on conflict.

A use case hands ``Changes.change`` an aggregate id and a decision: a pure function of the
stored aggregate returning its new state and events (``Decision``), or ``None`` for
nothing to do. The primitive reads the aggregate, skips a cause already in its inbox, writes
state + inbox id + outbox events in one version-guarded write, reads and decides again when
someone else wrote meanwhile, and wakes the relay once events are stored.

Below it, ``Aggregates`` is the whole contract a store keeps: load aggregates by id (many in
one query), find them by equality on top-level fields, write several guarded writes at once
(each wins or loses on its own), and the scheduled-work primitive: every write sets the
aggregate's next due instant and releases any claim on it; ``due`` lists what is due and
unclaimed, ``claim`` takes one for a lease. ``MongoAggregates`` keeps it on MongoDB; an
in-memory implementation lives in the test support (``rinnovo.testing``). The contract is
batch-shaped so that a consumer can load a batch's aggregates in one query, decide each,
and write them all in one call, without changing the use cases.
"""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from rinnovo.contracts import Event

T = TypeVar("T")

CLAIMED_UNTIL = "claimed_until"
NEVER_CLAIMED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Stored(Generic[T]):
    """An aggregate as read: its value, the version that guards the next write, the ids of
    the events it already processed, the due instant stored with it, and the trace context
    of its flow (``tracing.resumed`` continues it)."""

    id: str
    value: T
    version: int
    inbox: tuple[str, ...] = ()
    due_at: datetime | None = None
    trace: Mapping[str, str] | None = None

    @property
    def next_version(self) -> int:
        """The version the first event of the next change carries."""
        return self.version + 1


@dataclass(frozen=True)
class Decision(Generic[T]):
    """What a decision returns: the new state and the events it emits (in order)."""

    value: T
    events: Sequence[Event] = ()


@dataclass(frozen=True)
class Write(Generic[T]):
    """One guarded write: a new aggregate (``before`` None) or a change over the aggregate as
    read. ``causes`` go to the inbox; a write whose cause is there already loses."""

    id: str
    value: T
    events: Sequence[Event] = ()
    before: Stored[T] | None = None
    causes: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class Schedule(Generic[T]):
    """Scheduled work of an aggregate: ``due_of`` gives the instant its next work falls due
    (``None``: nothing scheduled), stored at every write in the indexed ``field``."""

    due_of: Callable[[T], datetime | None]
    field: str = "next_due_at"


class Codec(Protocol[T]):
    """An aggregate to and from the top-level fields of its document (the store adds the
    version, inbox, outbox and schedule fields)."""

    def encode(self, value: T) -> dict[str, Any]: ...

    def decode(self, doc: Mapping[str, Any]) -> T: ...


class Missing(LookupError):
    """The aggregate to change does not exist."""


class Taken(Exception):
    """A new or changed aggregate holds a unique value (other than its id) already held."""


class Aggregates(Protocol[T]):
    """The store of one kind of aggregate: what ``Changes`` and the schedulers need."""

    async def load(self, ids: Sequence[str]) -> dict[str, Stored[T]]:
        """The aggregates with these ids that exist: one query however many."""
        ...

    async def find(
        self,
        where: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[Stored[T]]:
        """Aggregates whose fields equal ``where`` (equality only; a dotted path reaches
        into the document), sorted by fields (1 up, -1 down)."""
        ...

    async def write(self, writes: Sequence[Write[T]]) -> list[Stored[T] | None]:
        """Each aggregate as written, or None where the write lost (the version moved, the
        id exists, the cause is in the inbox). Raises ``Taken`` after trying them all if one
        broke a unique field."""
        ...

    async def due(
        self, now: datetime, limit: int, where: Mapping[str, Any] | None = None
    ) -> list[str]:
        """Ids due at ``now`` and not claimed, soonest first."""
        ...

    async def claim(
        self,
        id_: str,
        now: datetime,
        lease: timedelta,
        *,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        """Claim one due aggregate until ``now + lease`` so other replicas skip it; None if
        it is not due or claimed. ``fence`` bumps its version, so that a claimer whose lease
        ran out loses its write to the one that claimed after it. ``count`` names a number field
        of its document (a dotted path reaches into it) that the claim adds one to: work
        taken is counted even when its claimer stops before writing (delivery attempts)."""
        ...

    async def claim_next(
        self,
        now: datetime,
        lease: timedelta,
        *,
        where: Mapping[str, Any] | None = None,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        """Claim the aggregate due soonest, as ``claim`` does; None when nothing is due."""
        ...


Decide = Callable[[Stored[T]], Decision[T] | None]


def cause_id(cause: Event | str | None) -> str | None:
    return str(cause.event_id) if isinstance(cause, Event) else cause


@dataclass
class Changes(Generic[T]):
    """Changes of one kind of aggregate, each read → decide → one guarded write."""

    store: Aggregates[T]
    on_events: Callable[[], None] = field(default=lambda: None)
    """Called once events are stored, so the relay publishes them without waiting a poll."""
    on_due: Callable[[datetime], None] = field(default=lambda _: None)
    """Called with the due instant of each aggregate written with one, so that work already
    due when it is written is taken at once, not at the scheduler's next sweep."""

    async def get(self, id_: str) -> Stored[T] | None:
        return (await self.store.load([id_])).get(id_)

    async def find(
        self,
        where: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[Stored[T]]:
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
            return self._written(after, write)

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
        write = Write(id_, value, tuple(events), None, (caused_by,) if caused_by else ())
        [after] = await self.store.write([write])
        return None if after is None else self._written(after, write)

    def _written(self, after: Stored[T], write: Write[T]) -> Changed[T]:
        if write.events:
            self.on_events()
        if after.due_at is not None:
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
