"""The contract a store of aggregates keeps, under ``rinnovo.runtime.changes``.

``Aggregates`` loads aggregates by id (many in one query), finds them by equality on
top-level fields, writes several guarded writes at once (each wins or loses on its own), and
keeps the scheduled-work primitive: every write sets the aggregate's next due instant and
releases any claim on it; ``due`` lists what is due and unclaimed, ``claim`` takes one for a
lease, ``claim_all`` many at once. ``MongoAggregates`` keeps it on MongoDB; an in-memory
implementation lives in the test support (``rinnovo.testing``).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from rinnovo.contracts import Event

T = TypeVar("T")

CLAIMED_UNTIL = "claimed_until"
CLAIMED_BY = "claimed_by"
"""The claim that last took the aggregate (``claim_all`` reads back its own by it)."""
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
class Write(Generic[T]):
    """One guarded write: a new aggregate (``before`` None) or a change over the aggregate as
    read. ``causes`` go to the inbox; a write whose cause is there already loses. ``version``
    is the version it sets: by default ``before``'s plus one per event (at least one), as one
    change does; a write carrying several changes sets the version their last one reached."""

    id: str
    value: T
    events: Sequence[Event] = ()
    before: Stored[T] | None = None
    causes: tuple[str, ...] = ()
    version: int | None = None
    traces: Sequence[Mapping[str, str]] = ()
    """With tracing on, the trace context each event was decided in, and (``trace``) the
    one the aggregate's last change was, when that is not the context the write runs in (a
    batch writes the changes of many consumed records at once)."""
    trace: Mapping[str, str] | None = None

    @property
    def new_version(self) -> int:
        if self.version is not None:
            return self.version
        return (self.before.version if self.before else 0) + max(1, len(self.events))


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


class Taken(Exception):
    """A new or changed aggregate holds a unique value (other than its id) already held.

    Raised by ``Aggregates.write`` after trying every write: ``results`` are theirs (None for
    the ones taken), ``taken`` the ids of the aggregates refused for a unique value."""

    def __init__(self, id_: str, *, results: Sequence[Any] = (), taken: Sequence[str] = ()) -> None:
        super().__init__(id_)
        self.results = list(results)
        self.taken = tuple(taken) or (id_,)


class Aggregates(Protocol[T]):
    """The store of one kind of aggregate: what ``Changes`` and the schedulers need."""

    schedule: Schedule[T] | None

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

    async def claim_all(
        self, ids: Sequence[str], now: datetime, lease: timedelta
    ) -> list[Stored[T]]:
        """Claim, as ``claim`` does, those of ``ids`` that are due and not claimed, in a
        fixed number of round trips however many: what a sweep takes in one go."""
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
