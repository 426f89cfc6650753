"""The agenda: which aggregates fall due in each minute, kept in documents found by ``_id``.

Every write that gives an aggregate a new ``next_due_at`` first notes the aggregate in the
page of that minute (``_id`` ``<kind>:<YYYY-MM-DDTHH:MM>``, UTC). A sweep then reads the few
pages since it last looked, by ``_id``: it costs what falls due, not what is stored, on any
MongoDB-wire server (FerretDB narrows nothing but an ``_id`` equality; MongoDB would also do
with the ``next_due_at`` index). A note is only a hint. Written before the aggregate, it may
name one whose due time has moved since (its claim then fails and it is skipped); whatever
a note cannot cover, the scheduler's periodic full query on ``next_due_at`` finds.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from rinnovo.runtime.clock import Clock

MINUTE = timedelta(minutes=1)


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

    def page_id(self, minute: datetime) -> str:
        return f"{self.kind}:{minute_of(minute):%Y-%m-%dT%H:%M}"

    def _page_of(self, due_at: datetime) -> str:
        # Already due: on the current page, never on one a sweep may have left behind.
        return self.page_id(max(due_at, self._clock.now()))

    async def note(self, aggregate_id: str, due_at: datetime) -> None:
        await self.collection.update_one(
            {"_id": self._page_of(due_at)},
            {"$addToSet": {"notes": {"id": aggregate_id, "at": due_at}}},
            upsert=True,
        )

    async def note_many(self, notes: Iterable[Note]) -> None:
        """For bulk loads: the same notes as ``note`` one by one, in one round trip."""
        pages: dict[str, list[dict[str, Any]]] = {}
        for n in notes:
            pages.setdefault(self._page_of(n.due_at), []).append(
                {"id": n.aggregate_id, "at": n.due_at}
            )
        if pages:
            await self.collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": page}, {"$addToSet": {"notes": {"$each": entries}}}, upsert=True
                    )
                    for page, entries in pages.items()
                ]
            )

    async def read(self, minute: datetime) -> list[Note]:
        page = await self.collection.find_one({"_id": self.page_id(minute)})
        if page is None:
            return []
        return [Note(n["id"], n["at"].replace(tzinfo=UTC)) for n in page.get("notes", [])]

    async def forget(self, minute: datetime) -> None:
        await self.collection.delete_one({"_id": self.page_id(minute)})
