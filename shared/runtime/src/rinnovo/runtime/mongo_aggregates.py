"""``Aggregates`` on MongoDB: one document per aggregate, written as ``aggregates`` lays it
out (state fields, version, inbox, outbox), plus the schedule fields when it has one."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, InsertOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from rinnovo.runtime import tracing
from rinnovo.runtime.aggregates import INBOX, INBOX_SIZE, VERSION, guarded_update, new_document
from rinnovo.runtime.changes import (
    CLAIMED_BY,
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

DUPLICATE_KEY = 11000

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
    ) -> None:
        self.collection = collection
        self.codec = codec
        self.schedule = schedule
        self.unique = tuple(unique)

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
        """All of them in one ``bulk_write``: at most one ``insert`` and one ``update``
        command, whatever their number.

        The server answers a guarded update's miss only as a count. When fewer matched than
        were sent, the documents are read back: a write with causes was stored if its causes
        are in the inbox. A write without causes cannot be told apart from a concurrent one
        that reached the same version, so when the count leaves it in doubt it is reported
        lost: its caller tries again, as after any redelivery."""
        if not writes:
            return []
        errors: dict[int, int] = {}
        try:
            result = await self.collection.bulk_write(
                [self._operation(w) for w in writes], ordered=False
            )
            matched = result.matched_count
        except BulkWriteError as exc:
            errors = {e["index"]: e["code"] for e in exc.details.get("writeErrors", ())}
            if exc.details.get("writeConcernErrors") or set(errors.values()) != {DUPLICATE_KEY}:
                raise
            matched = exc.details.get("nMatched", 0)
        taken, existing = await self._refused(writes, errors)
        lost = existing | await self._unmatched(writes, set(errors), matched)
        results = [
            None if i in lost or i in taken else self._after(w) for i, w in enumerate(writes)
        ]
        if taken:
            ids = [writes[i].id for i in sorted(taken)]
            raise Taken(ids[0], results=results, taken=ids)
        return results

    def _operation(self, w: Write[T]) -> InsertOne[dict[str, Any]] | UpdateOne:
        fields = self._fields(w.value)
        if w.before is None:
            return InsertOne(
                new_document(w.id, fields, w.events, w.causes, w.new_version, w.traces, w.trace)
            )
        filter_, update, _ = guarded_update(
            w.id, w.before.version, fields, w.events, w.causes, w.new_version, w.traces, w.trace
        )
        return UpdateOne(filter_, update)

    async def _refused(
        self, writes: Sequence[Write[T]], errors: Mapping[int, int]
    ) -> tuple[set[int], set[int]]:
        """Of the writes refused for a duplicate key: those that broke a unique field, and
        the new aggregates whose id exists already (lost, not taken)."""
        inserts = [i for i in errors if writes[i].before is None]
        taken = {i for i in errors if writes[i].before is not None}
        if not inserts:
            return taken, set()
        ids = [writes[i].id for i in inserts]
        found = self.collection.find({"_id": {"$in": ids}}, {"_id": 1})
        exist = {str(doc["_id"]) async for doc in found}
        taken |= {i for i in inserts if writes[i].id not in exist}
        return taken, {i for i in inserts if writes[i].id in exist}

    async def _unmatched(
        self, writes: Sequence[Write[T]], refused: set[int], matched: int
    ) -> set[int]:
        """The guarded updates that did not match (their aggregate moved on meanwhile)."""
        updates = [i for i, w in enumerate(writes) if w.before is not None and i not in refused]
        missed = len(updates) - matched
        if missed <= 0:
            return set()
        if missed == len(updates):
            return set(updates)
        ids = [writes[i].id for i in updates]
        cursor = self.collection.find({"_id": {"$in": ids}}, {VERSION: 1, INBOX: 1})
        inboxes = {str(doc["_id"]): set(doc.get(INBOX, ())) async for doc in cursor}
        caused = [i for i in updates if writes[i].causes]
        lost = {i for i in caused if not set(writes[i].causes) <= inboxes.get(writes[i].id, set())}
        uncertain = set(updates) - set(caused)
        return lost if len(lost) == missed else lost | uncertain

    def _after(self, w: Write[T]) -> Stored[T]:
        inbox = (*(w.before.inbox if w.before else ()), *w.causes)[-INBOX_SIZE:]
        return Stored(w.id, w.value, w.new_version, inbox, self._due(w.value))

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

    async def claim_all(
        self, ids: Sequence[str], now: datetime, lease: timedelta
    ) -> list[Stored[T]]:
        """One ``update`` marking each due one with this claim's own token, one ``find``
        reading back those it marked: each document's update is atomic, so of two
        replicas claiming the same ids each gets its own part."""
        if len(ids) <= 1:
            claimed = [await self.claim(id_, now, lease) for id_ in ids]
            return [c for c in claimed if c is not None]
        token = uuid.uuid4().hex
        update = self._claiming(now, lease, fence=False, count=None)
        update["$set"][CLAIMED_BY] = token
        await self.collection.update_many(
            {"_id": {"$in": list(ids)}, **self._due_filter(now)}, update
        )
        cursor = self.collection.find(
            {"_id": {"$in": list(ids)}, CLAIMED_BY: token}, WITHOUT_OUTBOX
        )
        return [self.stored(doc) async for doc in cursor]

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
