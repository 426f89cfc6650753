"""What every catalog change shares: products and codes are both entries with a snapshot,
an audit trail and a snapshot event per change."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from pydantic import BaseModel

from rinnovo.catalog.domain.audit import Entry, Who, recorded
from rinnovo.catalog.domain.errors import AlreadyExists, NotFound, StaleVersion
from rinnovo.catalog.integration_events import snapshot_published
from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.runtime.changes import Changes, Decision, Missing, Stored
from rinnovo.runtime.clock import Clock, rome_date

S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True)
class Kind(Generic[S]):
    """Products or codes: their changes, their event, the field that names one."""

    changes: Changes[Entry[S]]
    event: type[Event]
    id_field: str

    def id_of(self, snapshot: S) -> str:
        id_: str = getattr(snapshot, self.id_field)
        return id_

    async def ids(self) -> list[str]:
        return [s.id for s in await self.changes.find({})]


@dataclass(frozen=True)
class Catalog:
    products: Kind[ProductSnapshot]
    codes: Kind[ConventionCodeSnapshot]
    clock: Clock

    def today(self) -> date:
        return rome_date(self.clock.now())

    def who(self, by: str) -> Who:
        return Who(by=by, at=self.clock.now())


def entry_change(
    kind: Kind[S],
    stored: Stored[Entry[S]] | None,
    snapshot: S,
    who: Who,
    action: str,
    seed_hash: str | None = None,
) -> Decision[Entry[S]]:
    """The entry with ``snapshot``, audited, and its snapshot event if it changed."""
    current = stored.value if stored else None
    version = stored.next_version if stored else 1
    entry = recorded(current, snapshot, who, action, version, seed_hash)
    if current is not None and current.snapshot == snapshot:
        return Decision(entry)
    event = snapshot_published(kind.event, snapshot, kind.id_of(snapshot), version, who.at)
    return Decision(entry, [event])


async def create(kind: Kind[S], snapshot: S, who: Who) -> Stored[Entry[S]]:
    decision = entry_change(kind, None, snapshot, who, "created")
    id_ = kind.id_of(snapshot)
    created = await kind.changes.create(id_, decision.value, decision.events)
    if created is None:
        raise AlreadyExists(f"{id_} already exists")
    return created.stored


async def change(
    kind: Kind[S],
    id_: str,
    decide: Callable[[S], S],
    who: Who,
    action: str,
    expected_version: int | None,
) -> Stored[Entry[S]]:
    """Let the domain change one snapshot. With ``expected_version`` (``If-Match``) a change
    made since that version refuses it, rather than being decided on again."""

    def decided(stored: Stored[Entry[S]]) -> Decision[Entry[S]] | None:
        if expected_version is not None and stored.version != expected_version:
            raise StaleVersion(f"{id_} is at version {stored.version}")
        snapshot = decide(stored.value.snapshot)
        if snapshot == stored.value.snapshot:
            return None
        return entry_change(kind, stored, snapshot, who, action)

    try:
        return (await kind.changes.change(id_, decided)).stored
    except Missing:
        raise NotFound(f"nothing with {kind.id_field} {id_!r}") from None
