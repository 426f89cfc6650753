"""Transactional outbox without multi-document transactions.

An aggregate's new events are pushed into its own document by the same version-guarded
``update_one`` that changes its state (see ``aggregates.py``). The relay publishes them with
the idempotent producer and removes them afterwards. A crash between the two means the
events are published again later, never lost; consumers deduplicate on ``event_id``.
"""

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.runtime.events import Record
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.wakeups import woken_or_timed_out

log = structlog.get_logger(__name__)

OUTBOX = "outbox"
PENDING = "outbox_pending"
RETRY_SECONDS = 1.0
"""After a failed pass (Kafka or the database away), the next one is tried this soon."""


class Publisher(Protocol):
    async def publish(self, records: Sequence[Record]) -> None:
        """Publish records in order; return once the broker has acknowledged all of them."""
        ...


class RelayLease:
    """One relay per service publishes at a time, so replicas never publish an event twice.

    The holder renews the lease once a third of it has gone by; if it dies, another replica
    takes over once the lease runs out. A replica that found it held tries again only then,
    not at each of its own writes. Leases use the wall clock, never
    a service's (movable) clock.
    """

    def __init__(self, leases: AsyncCollection[dict[str, Any]], name: str, seconds: float) -> None:
        self._leases = leases
        self._name = name
        self._seconds = seconds
        self.owner = uuid.uuid4().hex
        self.holder = f"{socket.gethostname()}:{os.getpid()}"
        """Who holds it, for operators (``rinnovo outbox status``)."""
        self._held_until = 0.0
        self._try_again_at = 0.0

    async def still_held(self) -> bool:
        """Renew the lease if a third of it has gone by: called before each publish, so a
        long pass never outlives its lease (another replica would then publish the same
        events)."""
        now = time.monotonic()
        if now < self._held_until - 2 * self._seconds / 3:
            return True
        if now < self._try_again_at:
            return False  # another replica held it a moment ago
        return await self.hold()

    async def hold(self) -> bool:
        now = datetime.now(UTC)
        renewed_at = time.monotonic()
        try:
            await self._leases.update_one(
                {"_id": self._name, "$or": [{"owner": self.owner}, {"until": {"$lt": now}}]},
                {
                    "$set": {
                        "owner": self.owner,
                        "holder": self.holder,
                        "until": now + timedelta(seconds=self._seconds),
                    }
                },
                upsert=True,
            )
        except DuplicateKeyError:  # held by a live replica: try again once its lease ends
            self._held_until = 0.0
            held = await self._leases.find_one({"_id": self._name}, {"until": 1})
            ends = held["until"] if held else now
            left = (ends.replace(tzinfo=UTC) - now).total_seconds()
            self._try_again_at = renewed_at + min(max(left, 0.0), self._seconds)
            return False
        self._held_until = renewed_at + self._seconds
        return True


class OutboxRelay:
    """Publishes the pending events of some collections, oldest document first."""

    def __init__(
        self,
        collections: Sequence[AsyncCollection[dict[str, Any]]],
        publisher: Publisher,
        metrics: Metrics,
        poll_seconds: float = 2.0,
        batch_size: int = 200,
        lease: RelayLease | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._collections = collections
        self._publisher = publisher
        self._metrics = metrics
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._lease = lease
        self._now = clock  # events' times are the service's clock's
        self._wake = asyncio.Event()
        self._filled_batch = False
        self.idle = asyncio.Event()
        """Set while the relay waits for a write (or its poll) after a pass."""

    async def ensure_indexes(self) -> None:
        for collection in self._collections:
            await collection.create_index([(PENDING, ASCENDING)], sparse=True)

    def wake(self) -> None:
        """Called after a write that queued events, so they leave without waiting a poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            # Cleared before the pass reads: a write during the pass wakes the next one.
            self._wake.clear()
            self.idle.clear()
            self._filled_batch = False
            try:
                # Renewed once a third of it has gone by, not on every pass: the relay is
                # woken by each write that queues events, so that would be a write per event.
                leader = self._lease is None or await self._lease.still_held()
                if leader:
                    await self.relay_once()
                else:  # the holder reports what waits
                    self._metrics.outbox_backlog.set(0)
                    self._metrics.outbox_oldest_age.set(0)
            except Exception:
                # Kafka or the database is away: keep the events and try again later.
                log.warning("outbox relay failed; retrying", exc_info=True)
                await asyncio.sleep(min(self._poll_seconds, RETRY_SECONDS))
            if self._filled_batch:
                continue  # more may be pending right now
            # Otherwise wait for a write (or the poll, for other replicas' writes) rather
            # than query again at once: an empty pass costs a query too.
            self.idle.set()
            await woken_or_timed_out(self._wake, self._poll_seconds)

    async def relay_once(self) -> int:
        """Publish what is pending now; returns how many records left. Per collection: one
        query for the pending documents, one send of all their records, one write that
        forgets them."""
        published = 0
        found = 0
        oldest: datetime | None = None
        try:
            for collection in self._collections:
                cursor = collection.find(
                    {PENDING: True}, {OUTBOX: 1, "version": 1}, limit=self._batch_size
                )
                docs = [doc async for doc in cursor]
                records = [Record.from_document(r) for doc in docs for r in doc.get(OUTBOX, [])]
                found += len(records)
                if times := [r.time for r in records if r.time is not None]:
                    oldest = min(times) if oldest is None else min(oldest, *times)
                self._filled_batch = self._filled_batch or len(docs) >= self._batch_size
                if not docs:
                    continue
                if self._lease is not None and not await self._lease.still_held():
                    return published  # another replica relays now
                await self._publisher.publish(records)
                published += len(records)
                await self.forget_all(collection, docs)
        finally:
            # What was waiting when the pass looked, also when it failed half-way (Kafka
            # away: the backlog grows with each pass).
            self._metrics.outbox_backlog.set(found)
            age = 0.0 if oldest is None else (self._now() - oldest).total_seconds()
            self._metrics.outbox_oldest_age.set(max(age, 0.0))
            self._metrics.messages_published.inc(published)
        return published

    @staticmethod
    async def forget(collection: AsyncCollection[dict[str, Any]], doc: dict[str, Any]) -> None:
        """Remove the published events, as read in ``doc``, from the outbox."""
        await OutboxRelay.forget_all(collection, [doc])

    @staticmethod
    async def forget_all(
        collection: AsyncCollection[dict[str, Any]], docs: Sequence[dict[str, Any]]
    ) -> None:
        """Remove the published events, as read in ``docs``, from their outboxes: one write
        (two when some changed since they were read)."""
        # Unchanged since read: empty the outbox and lower the flag in one update each.
        emptied = await collection.bulk_write(
            [
                UpdateOne(
                    {"_id": doc["_id"], "version": doc.get("version")},
                    {"$set": {OUTBOX: []}, "$unset": {PENDING: ""}},
                )
                for doc in docs
            ],
            ordered=False,
        )
        if emptied.matched_count < len(docs):
            # Some changed meanwhile: remove exactly the entries published (``$pullAll``
            # matches whole entries, which every MongoDB-wire server supports, and finds
            # none in an outbox emptied above); newer events stay, and so does the flag,
            # for the next pass.
            await collection.bulk_write(
                [
                    UpdateOne({"_id": doc["_id"]}, {"$pullAll": {OUTBOX: doc.get(OUTBOX, [])}})
                    for doc in docs
                ],
                ordered=False,
            )
