"""How often the outbox relay goes to the database: its lease and its passes."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.runtime.events import Record
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.outbox import OUTBOX, PENDING, OutboxRelay, RelayLease


@dataclass
class Written:
    matched_count: int = 1


class Leases:
    """Accepts every lease write and counts them."""

    def __init__(self) -> None:
        self.writes = 0

    async def update_one(self, *_: Any, **__: Any) -> Written:
        self.writes += 1
        return Written()


class Outboxes:
    """Documents with one pending event each; ``forget`` empties them."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.finds = 0

    def add(self, id_: str) -> None:
        record = Record(f"e-{id_}", "t", id_, b"{}", {})
        self.docs[id_] = {"_id": id_, "version": 1, OUTBOX: [record.to_document()], PENDING: True}

    def find(self, *_: Any, limit: int = 0, **__: Any) -> AsyncIterator[dict[str, Any]]:
        self.finds += 1
        found = [d for d in self.docs.values() if d.get(PENDING)][: limit or None]

        async def pending() -> AsyncIterator[dict[str, Any]]:
            for doc in found:
                yield doc

        return pending()

    async def bulk_write(self, updates: Sequence[UpdateOne], **_: Any) -> Written:
        for update in updates:
            self.docs[update._filter["_id"]].pop(PENDING, None)
        return Written(matched_count=len(updates))


class Published:
    def __init__(self) -> None:
        self.records: list[Record] = []

    async def publish(self, records: Sequence[Record]) -> None:
        self.records.extend(records)


def relay_of(
    outboxes: Outboxes,
    published: Published,
    *,
    poll_seconds: float,
    batch_size: int = 200,
    leases: Leases | None = None,
) -> OutboxRelay:
    lease = None
    if leases is not None:
        lease = RelayLease(cast(AsyncCollection[dict[str, Any]], leases), "svc", seconds=60)
    return OutboxRelay(
        [cast(AsyncCollection[dict[str, Any]], outboxes)],
        published,
        Metrics(),
        poll_seconds=poll_seconds,
        batch_size=batch_size,
        lease=lease,
    )


async def until_published(published: Published, count: int) -> None:
    async with asyncio.timeout(5):
        while len(published.records) < count:
            await asyncio.sleep(0.005)


async def test_passes_within_a_third_of_the_lease_write_it_once() -> None:
    leases, outboxes, published = Leases(), Outboxes(), Published()
    relay = relay_of(outboxes, published, poll_seconds=0.01, leases=leases)
    task = asyncio.create_task(relay.run())
    try:
        for n in range(20):
            outboxes.add(f"a{n}")
            relay.wake()
            await asyncio.sleep(0.005)
        await until_published(published, 20)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [r.event_id for r in published.records] == [f"e-a{n}" for n in range(20)]
    assert leases.writes == 1


async def until_idle(relay: OutboxRelay) -> None:
    async with asyncio.timeout(5):
        await relay.idle.wait()


async def test_a_pass_that_empties_the_outbox_waits_for_the_next_write() -> None:
    outboxes, published = Outboxes(), Published()
    relay = relay_of(outboxes, published, poll_seconds=30)
    task = asyncio.create_task(relay.run())
    try:
        await until_idle(relay)  # the first pass finds nothing, then waits
        assert outboxes.finds == 1
        outboxes.add("a")
        relay.wake()
        await until_published(published, 1)
        await until_idle(relay)
        assert outboxes.finds == 2  # no third query until something is written
        outboxes.add("b")
        relay.wake()
        await until_published(published, 2)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_full_batch_is_followed_by_the_next_at_once() -> None:
    outboxes, published = Outboxes(), Published()
    for n in range(5):
        outboxes.add(f"a{n}")
    relay = relay_of(outboxes, published, poll_seconds=30, batch_size=2)
    task = asyncio.create_task(relay.run())
    try:
        await until_published(published, 5)  # no wake and no poll needed
        await until_idle(relay)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert outboxes.finds == 3


class Unreachable:
    async def publish(self, records: Sequence[Record]) -> None:
        raise ConnectionError("the broker is away")


async def test_the_backlog_is_what_a_pass_found_waiting() -> None:
    outboxes = Outboxes()
    for n in range(3):
        outboxes.add(f"a{n}")
    metrics = Metrics()
    relay = OutboxRelay(
        [cast(AsyncCollection[dict[str, Any]], outboxes)], Published(), metrics, batch_size=2
    )
    assert await relay.relay_once() == 2
    assert metrics.outbox_backlog._value.get() == 2  # a batch found, and published
    assert await relay.relay_once() == 1
    assert metrics.outbox_backlog._value.get() == 1
    assert await relay.relay_once() == 0
    assert metrics.outbox_backlog._value.get() == 0
    # The broker away: what waits is still counted, and stays for the next pass.
    outboxes.add("b")
    down = OutboxRelay([cast(AsyncCollection[dict[str, Any]], outboxes)], Unreachable(), metrics)
    with pytest.raises(ConnectionError):
        await down.relay_once()
    assert metrics.outbox_backlog._value.get() == 1
    assert metrics.messages_published._value.get() == 3


class HeldElsewhere:
    """Another live replica holds the lease for ``seconds`` more: every attempt to take it is
    refused."""

    def __init__(self, seconds: float) -> None:
        self.until = datetime.now(UTC) + timedelta(seconds=seconds)
        self.writes = 0

    async def update_one(self, *_: Any, **__: Any) -> Written:
        self.writes += 1
        raise DuplicateKeyError("E11000 duplicate key error")

    async def find_one(self, *_: Any, **__: Any) -> dict[str, Any]:
        return {"until": self.until}


async def test_a_lease_held_elsewhere_is_tried_again_once_it_ends() -> None:
    held = HeldElsewhere(seconds=30)
    lease = RelayLease(cast(AsyncCollection[dict[str, Any]], held), "svc", seconds=60)
    for _ in range(10):  # the relay woken by ten writes of this replica
        assert not await lease.still_held()
    assert held.writes == 1
    ended = HeldElsewhere(seconds=-1)  # its holder's lease has run out: tried at each pass
    lease = RelayLease(cast(AsyncCollection[dict[str, Any]], ended), "svc", seconds=60)
    for _ in range(3):
        assert not await lease.still_held()
    assert ended.writes == 3
