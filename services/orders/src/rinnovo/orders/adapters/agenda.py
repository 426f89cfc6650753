"""The agenda: which aggregates fall due in each minute, kept in documents found by ``_id``.

Every write that gives an aggregate a new ``next_due_at`` first notes the aggregate in the
page of that minute (``_id`` ``<kind>:<YYYY-MM-DDTHH:MM>:<shard>``, UTC). A minute is split
into ``SHARDS`` pages by the aggregate's id, so that the many services expiring on one
night do not all rewrite one ever larger document. A sweep then reads the pages of the few
minutes since it last looked, in one query by ``_id``: it costs what falls due, not what is
stored, on any MongoDB-wire server (FerretDB narrows no range; MongoDB would also do with
the ``next_due_at`` index). A note is only a hint. Written before the aggregate, it may
name one whose due time has moved since (its claim then fails and it is skipped); whatever
a note cannot cover, the scheduler's periodic full query on ``next_due_at`` finds.
"""

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from rinnovo.runtime.clock import Clock

MINUTE = timedelta(minutes=1)
SHARDS = 16


def minute_of(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class Note:
    aggregate_id: str
    due_at: datetime


class Agenda:
    def __init__(self, collection: AsyncCollection[dict[str, Any]], kind: str, clock: Clock):
        self.collection = collection
        self.kind = kind
        self._clock = clock

    def _page_id(self, minute: datetime, shard: int) -> str:
        return f"{self.kind}:{minute_of(minute):%Y-%m-%dT%H:%M}:{shard:02d}"

    def _pages(self, minute: datetime) -> list[str]:
        return [self._page_id(minute, shard) for shard in range(SHARDS)]

    def _page_of(self, note: Note) -> str:
        # Already due: on the current minute, never on one a sweep may have left behind.
        minute = max(note.due_at, self._clock.now())
        return self._page_id(minute, zlib.crc32(note.aggregate_id.encode()) % SHARDS)

    async def note(self, aggregate_id: str, due_at: datetime) -> None:
        await self.note_many([Note(aggregate_id, due_at)])

    async def notice(self, due: Sequence[tuple[str, datetime]]) -> None:
        """Note the new due instants of a store's writes, before they are written."""
        await self.note_many(Note(aggregate_id, due_at) for aggregate_id, due_at in due)

    async def note_many(self, notes: Iterable[Note]) -> None:
        pages: dict[str, list[dict[str, Any]]] = {}
        for n in notes:
            pages.setdefault(self._page_of(n), []).append({"id": n.aggregate_id, "at": n.due_at})
        if pages:
            await self.collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": page}, {"$addToSet": {"notes": {"$each": entries}}}, upsert=True
                    )
                    for page, entries in pages.items()
                ]
            )

    async def read(self, minutes: Sequence[datetime]) -> dict[datetime, list[Note]]:
        """The notes on the pages of these minutes, by minute: one query."""
        minute_of_page = {page: m for m in minutes for page in self._pages(m)}
        found: dict[datetime, list[Note]] = {m: [] for m in minutes}
        async for page in self.collection.find({"_id": {"$in": list(minute_of_page)}}):
            found[minute_of_page[page["_id"]]] += [
                Note(n["id"], n["at"].replace(tzinfo=UTC)) for n in page.get("notes", [])
            ]
        return found

    async def forget(self, minute: datetime) -> None:
        await self.collection.delete_many({"_id": {"$in": self._pages(minute)}})
