"""``Aggregates`` on MongoDB: one document per aggregate, written as ``aggregates`` lays it
out (state fields, version, inbox, outbox), plus the schedule fields when it has one."""

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.runtime import tracing
from rinnovo.runtime.aggregates import INBOX, INBOX_SIZE, VERSION, guarded_update, new_document
from rinnovo.runtime.changes import (
    CLAIMED_UNTIL,
    NEVER_CLAIMED,
    Codec,
    Schedule,
    Stored,
    Taken,
    Write,
)
from rinnovo.runtime.outbox import OUTBOX

T = TypeVar("T")

Notice = Callable[[Sequence[tuple[str, datetime]]], Awaitable[None]]
"""Told the new due instants of a call's writes before they are stored (an index of due
work kept elsewhere, such as the orders agenda, notes them first)."""

WITHOUT_OUTBOX = {OUTBOX: 0}
"""Aggregates are read without their outbox: the relay alone reads it. (A claim returns the
whole document: FerretDB's ``findAndModify`` takes no projection.)"""


def as_utc(instant: datetime | None) -> datetime | None:
    if instant is None or instant.tzinfo is not None:
        return instant
    return instant.replace(tzinfo=UTC)


class MongoAggregates(Generic[T]):
    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        codec: Codec[T],
        *,
        schedule: Schedule[T] | None = None,
        unique: Sequence[str] = (),
        notice: Notice | None = None,
    ) -> None:
        self.collection = collection
        self.codec = codec
        self.schedule = schedule
        self.unique = tuple(unique)
        self._notice = notice

    async def ensure_indexes(self) -> None:
        if self.schedule is not None:
            await self.collection.create_index([(self.schedule.field, ASCENDING)])
        for name in self.unique:
            await self.collection.create_index([(name, ASCENDING)], unique=True)

    # -- reading ---------------------------------------------------------------------------

    def stored(self, doc: Mapping[str, Any]) -> Stored[T]:
        due = doc.get(self.schedule.field) if self.schedule else None
        return Stored(
            str(doc["_id"]),
            self.codec.decode(doc),
            doc[VERSION],
            tuple(doc.get(INBOX, ())),
            as_utc(due),
            doc.get(tracing.TRACE),
        )

    async def load(self, ids: Sequence[str]) -> dict[str, Stored[T]]:
        if len(ids) == 1:
            doc = await self.collection.find_one({"_id": ids[0]}, WITHOUT_OUTBOX)
            return {} if doc is None else {ids[0]: self.stored(doc)}
        cursor = self.collection.find({"_id": {"$in": list(ids)}}, WITHOUT_OUTBOX)
        return {str(doc["_id"]): self.stored(doc) async for doc in cursor}

    async def find(
        self,
        where: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[Stored[T]]:
        cursor = self.collection.find(dict(where), WITHOUT_OUTBOX, limit=limit)
        if sort:
            cursor = cursor.sort(list(sort))
        return [self.stored(doc) async for doc in cursor]

    # -- writing ---------------------------------------------------------------------------

    def _due(self, value: T) -> datetime | None:
        return None if self.schedule is None else self.schedule.due_of(value)

    def _fields(self, value: T) -> dict[str, Any]:
        fields = self.codec.encode(value)
        if self.schedule is not None:
            # Every write sets the next due instant and releases any claim.
            fields |= {self.schedule.field: self._due(value), CLAIMED_UNTIL: NEVER_CLAIMED}
        return fields

    async def write(self, writes: Sequence[Write[T]]) -> list[Stored[T] | None]:
        if self._notice is not None:
            noted = [(w.id, self._due(w.value)) for w in writes]
            new = [
                (id_, due)
                for (id_, due), w in zip(noted, writes, strict=True)
                if due is not None and due != (w.before.due_at if w.before else None)
            ]
            if new:
                await self._notice(new)
        results: list[Stored[T] | None] = []
        taken: Taken | None = None
        for w in writes:
            try:
                results.append(await self._write_one(w))
            except Taken as exc:
                taken = exc
                results.append(None)
        if taken is not None:
            raise taken
        return results

    async def _write_one(self, w: Write[T]) -> Stored[T] | None:
        fields = self._fields(w.value)
        if w.before is None:
            doc = new_document(w.id, fields, w.events, w.causes)
            try:
                await self.collection.insert_one(doc)
            except DuplicateKeyError as exc:
                if await self.collection.find_one({"_id": w.id}, {"_id": 1}) is None:
                    raise Taken(w.id) from exc
                return None
            version: int = doc[VERSION]
        else:
            filter_, update, version = guarded_update(
                w.id, w.before.version, fields, w.events, w.causes
            )
            try:
                result = await self.collection.update_one(filter_, update)
            except DuplicateKeyError as exc:
                raise Taken(w.id) from exc
            if result.matched_count == 0:
                return None
        inbox = (*(w.before.inbox if w.before else ()), *w.causes)[-INBOX_SIZE:]
        return Stored(w.id, w.value, version, inbox, self._due(w.value))

    # -- scheduled work --------------------------------------------------------------------

    def _due_filter(self, now: datetime) -> dict[str, Any]:
        if self.schedule is None:
            raise TypeError(f"{self.collection.name} has no schedule")
        return {self.schedule.field: {"$lte": now}, CLAIMED_UNTIL: {"$lte": now}}

    def _claiming(
        self, now: datetime, lease: timedelta, fence: bool, count: str | None
    ) -> dict[str, Any]:
        update: dict[str, Any] = {"$set": {CLAIMED_UNTIL: now + lease}}
        inc = {VERSION: 1} if fence else {}
        if count is not None:
            inc[count] = 1
        if inc:
            update["$inc"] = inc
        return update

    async def due(
        self, now: datetime, limit: int, where: Mapping[str, Any] | None = None
    ) -> list[str]:
        filter_ = {**self._due_filter(now), **(where or {})}
        assert self.schedule is not None
        cursor = self.collection.find(
            filter_, {"_id": 1}, sort=[(self.schedule.field, ASCENDING)], limit=limit
        )
        return [str(doc["_id"]) async for doc in cursor]

    async def claim(
        self,
        id_: str,
        now: datetime,
        lease: timedelta,
        *,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        doc = await self.collection.find_one_and_update(
            {"_id": id_, **self._due_filter(now)},
            self._claiming(now, lease, fence, count),
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else self.stored(doc)

    async def claim_next(
        self,
        now: datetime,
        lease: timedelta,
        *,
        where: Mapping[str, Any] | None = None,
        fence: bool = False,
        count: str | None = None,
    ) -> Stored[T] | None:
        filter_ = {**self._due_filter(now), **(where or {})}
        assert self.schedule is not None
        doc = await self.collection.find_one_and_update(
            filter_,
            self._claiming(now, lease, fence, count),
            sort=[(self.schedule.field, ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else self.stored(doc)
