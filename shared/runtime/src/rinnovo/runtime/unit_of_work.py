"""The unit of work of a batch of consumed events: ``Changes`` in memory, written once.

While a consumer handles a batch (``rinnovo.runtime.batches``), every ``Changes`` call of its
handlers comes here (``changes.OPEN_BATCH``), inside the scope of the event being handled.

- Reads asked for in the same moment become one query per store (``loads.Loader``), and
  what was read is remembered for the rest of the batch.
- Changes stay in memory: a second change of an aggregate decides on the first's result,
  whichever event made it, so two events never decide on the same stale state.
- ``flush`` writes each changed aggregate once: its state, every inbox id and every outbox
  event in one guarded write, all of a store's writes in one call. An aggregate decided
  after reading another one's unwritten change is written only once that one is stored
  (and after every earlier event of its key that saw it), so a use case's second step is
  never stored without its first, and a key's events take effect in partition order.

What could not be stored (a write lost to a concurrent writer, an event whose handler failed,
and every event that depended on them) ``flush`` reports as the events to handle again
alone, outside any batch, where the inbox makes what was stored a no-op.
"""

import contextlib
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rinnovo.contracts import Event
from rinnovo.runtime import tracing
from rinnovo.runtime.aggregates import INBOX_SIZE
from rinnovo.runtime.changes import Changed, Changes, Decide, Missing
from rinnovo.runtime.loads import Loader
from rinnovo.runtime.stores import Aggregates, Stored, Taken, Write


class Alone(Exception):
    """What the event asks cannot be kept in the batch; it is handled again alone."""


@dataclass(eq=False)
class Scope:
    """One consumed event's handling: what it saw and changed."""

    key: Hashable
    index: int
    """Its place among its key's events in the batch."""
    seen: set["Entry"] = field(default_factory=set)
    read_changed: set["Entry"] = field(default_factory=set)
    """Aggregates it read while they held changes not yet written (its own included)."""
    changed: set["Entry"] = field(default_factory=set)
    failed: bool = False


@dataclass(eq=False)
class Entry:
    """One aggregate in the batch: as read from its store, and as the batch left it."""

    store: Aggregates[Any]
    id: str
    base: Stored[Any] | None
    """As read; None for a new one (an insert, lost if the id exists after all)."""
    current: Stored[Any] | None
    events: list[Event] = field(default_factory=list)
    traces: list[Mapping[str, str]] = field(default_factory=list)
    """With tracing on, the trace context each event was decided in (its consumed record's)."""
    trace: Mapping[str, str] | None = None
    """With tracing on, the trace context of its last change."""
    causes: list[str] = field(default_factory=list)
    changed_by: set[Scope] = field(default_factory=set)
    read_by: set[Scope] = field(default_factory=set)
    """Events that read it while it held unwritten changes."""
    after: set["Entry"] = field(default_factory=set)
    """Written only once these are stored."""
    wake: list[Callable[[], None]] = field(default_factory=list)

    def write(self) -> Write[Any]:
        assert self.current is not None
        return Write(
            self.id,
            self.current.value,
            tuple(self.events),
            self.base,
            tuple(self.causes),
            self.current.version,
            tuple(self.traces),
            self.trace,
        )


CURRENT: ContextVar[Scope | None] = ContextVar("rinnovo_batch_scope", default=None)


def _inbox(inbox: tuple[str, ...], cause: str | None) -> tuple[str, ...]:
    return inbox if cause is None else (*inbox, cause)[-INBOX_SIZE:]


class UnitOfWork:
    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], Entry] = {}
        self._loaders: dict[int, Loader] = {}
        self._keys: dict[Hashable, list[Scope]] = {}
        self.open = True

    @contextlib.contextmanager
    def handling(self, key: Hashable, index: int) -> Iterator[Scope]:
        """The scope of one event; it failed if its handler raised."""
        scope = Scope(key, index)
        self._keys.setdefault(key, []).append(scope)
        token = CURRENT.set(scope)
        try:
            yield scope
        except BaseException:
            scope.failed = True
            raise
        finally:
            CURRENT.reset(token)

    # -- reading ---------------------------------------------------------------------------

    def _scope(self) -> Scope:
        scope = CURRENT.get()
        if scope is None:
            raise RuntimeError("a change inside a batch, outside the handling of an event")
        return scope

    async def _entry(
        self, store: Aggregates[Any], id_: str, read: Stored[Any] | None = None
    ) -> Entry:
        key = (id(store), id_)
        if (entry := self._entries.get(key)) is None:
            if read is None:
                loader = self._loaders.setdefault(id(store), Loader(store))
                read = await loader.load(id_)
            entry = self._entries.setdefault(key, Entry(store, id_, read, read))
        return entry

    def _see(self, scope: Scope, entry: Entry) -> None:
        scope.seen.add(entry)
        if entry.changed_by:
            scope.read_changed.add(entry)
            entry.read_by.add(scope)

    async def get(self, changes: Changes[Any], id_: str) -> Stored[Any] | None:
        scope = self._scope()
        entry = await self._entry(changes.store, id_)
        self._see(scope, entry)
        return entry.current

    async def find(
        self,
        changes: Changes[Any],
        where: Mapping[str, Any],
        sort: Sequence[tuple[str, int]],
        limit: int,
    ) -> list[Stored[Any]]:
        """A query sees the store, not the batch: refused once the batch changed the store."""
        scope = self._scope()
        store = changes.store
        if any(e.changed_by for e in self._entries.values() if e.store is store):
            raise Alone("a query over changes not yet written")
        found = []
        for stored in await store.find(where, sort=sort, limit=limit):
            entry = self._entries.setdefault(
                (id(store), stored.id), Entry(store, stored.id, stored, stored)
            )
            self._see(scope, entry)
            if entry.current is not None:
                found.append(entry.current)
        return found

    # -- changing --------------------------------------------------------------------------

    async def change(
        self,
        changes: Changes[Any],
        id_: str,
        decide: Decide[Any],
        cause: str | None,
        read: Stored[Any] | None,
        before: Callable[[Stored[Any]], Awaitable[None]] | None,
    ) -> Changed[Any]:
        scope = self._scope()
        entry = await self._entry(changes.store, id_, read)
        while True:
            stored = entry.current
            self._see(scope, entry)
            if stored is None:
                raise Missing(id_)
            if cause is not None and cause in stored.inbox:
                return Changed(stored, duplicate=True)
            if before is not None:
                await before(stored)
                if entry.current is not stored:
                    continue  # another event of the batch changed it meanwhile
            decision = decide(stored)
            if decision is None:
                return Changed(stored)
            events = tuple(decision.events)
            after = Stored(
                id_,
                decision.value,
                stored.version + max(1, len(events)),
                _inbox(stored.inbox, cause),
                self._due(changes.store, decision.value),
            )
            self._record(scope, entry, after, events, cause, changes.on_events)
            return Changed(after, events, written=True)

    async def create(
        self,
        changes: Changes[Any],
        id_: str,
        value: Any,
        events: Sequence[Event],
        cause: str | None,
    ) -> Changed[Any] | None:
        """A new aggregate, unless the batch knows it exists. Not read first: if the store
        has it after all, the insert is lost and the event handled again alone."""
        scope = self._scope()
        store = changes.store
        entry = self._entries.setdefault((id(store), id_), Entry(store, id_, None, None))
        self._see(scope, entry)
        if entry.current is not None:
            return None
        after = Stored(id_, value, max(1, len(events)), _inbox((), cause), self._due(store, value))
        self._record(scope, entry, after, tuple(events), cause, changes.on_events)
        return Changed(after, tuple(events), written=True)

    @staticmethod
    def _due(store: Aggregates[Any], value: Any) -> Any:
        return None if store.schedule is None else store.schedule.due_of(value)

    def _record(
        self,
        scope: Scope,
        entry: Entry,
        after: Stored[Any],
        events: tuple[Event, ...],
        cause: str | None,
        wake: Callable[[], None],
    ) -> None:
        entry.after |= self._depends(scope, entry)
        entry.current = after
        entry.events.extend(events)
        if tracing.enabled():
            entry.trace = tracing.context_headers()
            entry.traces.extend([entry.trace] * len(events))
        entry.causes.extend([cause] if cause else [])
        if events:
            entry.wake.append(wake)
        entry.changed_by.add(scope)
        scope.changed.add(entry)
        self._see(scope, entry)

    def _depends(self, scope: Scope, entry: Entry) -> set[Entry]:
        """What must be stored before this change: the unwritten changes the event read, and
        the changes of its key's earlier events that saw this aggregate."""
        earlier = [s for s in self._keys[scope.key] if s.index < scope.index and entry in s.seen]
        return (scope.read_changed | {e for s in earlier for e in s.changed}) - {entry}

    # -- writing ---------------------------------------------------------------------------

    async def flush(self) -> set[Scope]:
        """Write every changed aggregate once, each after what it depends on; returns the
        events (scopes) whose work was not all stored."""
        self.open = False
        entries = list(self._entries.values())
        unstored = {e for e in entries if any(s.failed for s in e.changed_by)}
        todo = [e for e in entries if e.changed_by and e not in unstored]
        written: set[Entry] = set()
        while todo:
            ready = [e for e in todo if e.after <= written]
            if not ready:  # what is left waits on something not stored (or on itself)
                unstored |= set(todo)
                break
            stored = await self._write(ready)
            written |= stored
            unstored |= set(ready) - stored
            todo = [e for e in todo if e not in written and e not in unstored]
        self._wake(written)
        redo = {s for scopes in self._keys.values() for s in scopes if s.failed}
        for entry in unstored:
            redo |= entry.changed_by | entry.read_by
        return redo

    async def _write(self, entries: list[Entry]) -> set[Entry]:
        by_store: dict[int, list[Entry]] = {}
        for entry in entries:
            by_store.setdefault(id(entry.store), []).append(entry)
        stored: set[Entry] = set()
        for group in by_store.values():
            try:
                results = await group[0].store.write([e.write() for e in group])
            except Taken as exc:  # handled again alone, where the use case sees it
                results = exc.results
            stored |= {e for e, r in zip(group, results, strict=True) if r is not None}
        return stored

    @staticmethod
    def _wake(written: set[Entry]) -> None:
        calls: list[Callable[[], None]] = []
        for entry in written:
            calls += [w for w in entry.wake if w not in calls]
        for call in calls:
            call()
