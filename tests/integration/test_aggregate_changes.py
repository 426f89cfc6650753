"""The runtime's one way to change an aggregate, on both stores that keep its contract.

Every case runs on the in-memory store (a unit test) and on MongoDB (the real server), so
the fast use-case tests of the services stand on the same behaviour as production.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from rinnovo.contracts import Event
from rinnovo.contracts.panel import UsageReported, UsageReportedPayload
from rinnovo.devstack.stack import LocalStack
from rinnovo.runtime.changes import (
    Aggregates,
    Changes,
    Decision,
    Missing,
    Schedule,
    Stored,
    Taken,
    Write,
)
from rinnovo.runtime.documents import StateCodec
from rinnovo.runtime.events import new_event
from rinnovo.runtime.mongo_aggregates import MongoAggregates
from rinnovo.testing.aggregates import MemoryAggregates
from rinnovo.testing.commands import Commands

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=1)


@dataclass(frozen=True)
class Counter:
    owner: str
    count: int = 0
    due_at: datetime | None = None
    slot: str | None = None


def indexed(c: Counter) -> dict[str, Any]:
    return {"owner": c.owner, "slot": c.slot or f"free:{id(c)}:{uuid.uuid4()}"}


CODEC = StateCodec(Counter, indexed)
SCHEDULE: Schedule[Counter] = Schedule(lambda c: c.due_at)


def reported(service_id: str = "c1", version: int = 1) -> Event:
    return new_event(
        UsageReported,
        payload=UsageReportedPayload(service_id=service_id, used_bytes=1, measured_at=NOW),
        producer="test",
        aggregate_id=service_id,
        aggregate_version=version,
        occurred_at=NOW,
    )


def bump(by: int = 1, events: int = 0) -> Callable[[Stored[Counter]], Decision[Counter]]:
    def decide(s: Stored[Counter]) -> Decision[Counter]:
        emitted = [reported(s.id, s.next_version + n) for n in range(events)]
        return Decision(replace(s.value, count=s.value.count + by), emitted)

    return decide


@dataclass
class Kit:
    store: Aggregates[Counter]
    wakes: list[None]
    commands: Commands | None = None

    @property
    def changes(self) -> Changes[Counter]:
        return Changes(self.store, on_events=lambda: self.wakes.append(None))


@pytest.fixture(params=["memory", pytest.param("mongo", marks=pytest.mark.integration)])
async def kit(request: pytest.FixtureRequest) -> AsyncIterator[Kit]:
    if request.param == "memory":
        yield Kit(MemoryAggregates(CODEC, schedule=SCHEDULE, unique=("slot",)), [])
        return
    stack: LocalStack = request.getfixturevalue("local_stack")
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        stack.mongodb_url, tz_aware=True, event_listeners=[commands]
    )
    collection = client[f"test_changes_{uuid.uuid4().hex[:8]}"]["counters"]
    store = MongoAggregates(collection, CODEC, schedule=SCHEDULE, unique=("slot",))
    await store.ensure_indexes()
    commands.names.clear()
    yield Kit(store, [], commands)
    await client.close()


async def test_a_change_writes_state_events_and_wakes_the_relay(kit: Kit) -> None:
    created = await kit.changes.create("c1", Counter("ann"), [reported()])
    assert created is not None and created.stored.version == 1
    changed = await kit.changes.change("c1", bump(2, events=2))
    assert changed.written and changed.value.count == 2
    assert changed.stored.version == 3  # one per event
    assert [e.aggregate_version for e in changed.events] == [2, 3]
    assert len(kit.wakes) == 2
    again = await kit.changes.get("c1")
    assert again is not None and again.value.count == 2 and again.version == 3


async def test_a_cause_changes_an_aggregate_once(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann"))
    cause = reported()
    first = await kit.changes.change("c1", bump(), cause=cause)
    decided: list[int] = []

    def refuse_to_run(s: Stored[Counter]) -> Decision[Counter]:
        decided.append(s.version)
        return bump()(s)

    second = await kit.changes.change("c1", refuse_to_run, cause=cause)
    assert first.written and not first.duplicate
    assert second.duplicate and not second.written and decided == []
    assert second.value.count == 1
    # The guarded write itself refuses a cause its inbox holds, even at the right version.
    current = await kit.store.load(["c1"])
    write = Write("c1", Counter("ann", 9), (), current["c1"], (str(cause.event_id),))
    assert await kit.store.write([write]) == [None]


async def test_a_concurrent_change_makes_it_read_and_decide_again(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann"))
    seen: list[int] = []

    async def meanwhile() -> None:
        await kit.changes.change("c1", bump(10))

    def decide(s: Stored[Counter]) -> Decision[Counter]:
        seen.append(s.value.count)
        return bump()(s)

    read = await kit.changes.get("c1")
    await meanwhile()  # the aggregate moves on after ``read``
    changed = await kit.changes.change("c1", decide, read=read)
    assert seen == [0, 10]
    assert changed.value.count == 11


async def test_nothing_to_do_writes_nothing_and_a_missing_aggregate_is_an_error(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann"))
    unchanged = await kit.changes.change("c1", lambda s: None)
    assert not unchanged.written and unchanged.stored.version == 1
    with pytest.raises(Missing):
        await kit.changes.change("nobody", bump())
    assert await kit.changes.create("c1", Counter("bob")) is None
    stored = await kit.changes.get("c1")
    assert stored is not None and stored.value.owner == "ann"


async def test_a_unique_value_is_held_by_one_aggregate(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann", slot="s"))
    with pytest.raises(Taken):
        await kit.changes.create("c2", Counter("bob", slot="s"))
    assert await kit.changes.get("c2") is None
    freed = await kit.changes.change("c1", lambda s: Decision(replace(s.value, slot=None)))
    assert freed.written
    assert await kit.changes.create("c2", Counter("bob", slot="s")) is not None


async def test_find_by_fields_sorted_and_load_many(kit: Kit) -> None:
    for n, owner in enumerate(["ann", "bob", "ann", "ann"]):
        await kit.changes.create(f"c{n}", Counter(owner, count=n))
    found = await kit.store.find({"owner": "ann"}, sort=[("_id", -1)], limit=2)
    assert [s.id for s in found] == ["c3", "c2"]
    loaded = await kit.store.load(["c0", "c1", "nobody"])
    assert sorted(loaded) == ["c0", "c1"]


async def test_due_work_is_claimed_once_and_released_by_its_write(kit: Kit) -> None:
    await kit.changes.create("late", Counter("ann", due_at=NOW - timedelta(hours=1)))
    await kit.changes.create("soon", Counter("ann", due_at=NOW - timedelta(minutes=1)))
    await kit.changes.create("later", Counter("ann", due_at=NOW + timedelta(hours=1)))
    await kit.changes.create("never", Counter("ann"))
    assert await kit.changes.due(NOW, 10) == ["late", "soon"]
    assert await kit.changes.due(NOW, 10, where={"owner": "bob"}) == []
    claimed = await kit.changes.claim("late", NOW, LEASE)
    assert claimed is not None and claimed.due_at == NOW - timedelta(hours=1)
    assert await kit.changes.claim("late", NOW, LEASE) is None  # another replica skips it
    assert await kit.changes.claim("later", NOW, LEASE) is None  # not due
    assert await kit.changes.due(NOW, 10) == ["soon"]
    # Its write sets the next due instant and releases the claim.
    later = NOW + timedelta(minutes=30)
    done = await kit.changes.change(
        "late", lambda s: Decision(replace(s.value, due_at=later)), read=claimed
    )
    assert done.stored.due_at == later
    assert await kit.changes.due(later, 10) == ["soon", "late"]
    nxt = await kit.changes.claim_next(NOW, LEASE)
    assert nxt is not None and nxt.id == "soon"
    assert await kit.changes.claim_next(NOW, LEASE) is None


async def test_claims_of_many_at_once_take_each_due_one_once(kit: Kit) -> None:
    for n in range(6):
        await kit.changes.create(f"d{n}", Counter("ann", due_at=NOW - timedelta(minutes=n)))
    await kit.changes.create("later", Counter("ann", due_at=NOW + timedelta(hours=1)))
    held = await kit.changes.claim("d0", NOW, LEASE)
    assert held is not None
    # Two replicas claim overlapping ids at once: each due one goes to exactly one of them.
    first, second = await asyncio.gather(
        kit.changes.claim_all([f"d{n}" for n in range(4)] + ["later"], NOW, LEASE),
        kit.changes.claim_all([f"d{n}" for n in range(2, 6)] + ["nobody"], NOW, LEASE),
    )
    ids = [s.id for s in first] + [s.id for s in second]
    assert sorted(ids) == ["d1", "d2", "d3", "d4", "d5"]
    assert all(s.due_at is not None and s.due_at <= NOW for s in [*first, *second])
    assert await kit.changes.due(NOW, 10) == []
    assert await kit.changes.claim_all(["d1", "d2"], NOW + 2 * LEASE, LEASE) != []  # lease over


async def test_a_fenced_claim_makes_the_previous_claimer_lose(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann", due_at=NOW))
    first = await kit.changes.claim("c1", NOW, LEASE, fence=True)
    assert first is not None and first.version == 2
    expired = NOW + 2 * LEASE
    second = await kit.changes.claim("c1", expired, LEASE, fence=True)
    assert second is not None and second.version == 3
    [lost] = await kit.store.write([Write("c1", Counter("ann", 1), (), first)])
    [won] = await kit.store.write([Write("c1", Counter("ann", 2), (), second)])
    assert lost is None and won is not None and won.version == 4


async def test_a_claim_counts_the_work_taken_even_if_its_claimer_never_writes(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann", due_at=NOW))
    first = await kit.changes.claim_next(NOW, LEASE, count="state.count")
    assert first is not None and first.value.count == 1
    # The claimer stopped; once its lease runs out the next claim counts on.
    expired = NOW + 2 * LEASE
    second = await kit.changes.claim("c1", expired, LEASE, fence=True, count="state.count")
    assert second is not None and second.value.count == 2 and second.version == 2
    stored = await kit.changes.get("c1")
    assert stored is not None and stored.value.count == 2


async def test_a_consumed_event_costs_one_read_and_one_write(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann"))
    if isinstance(kit.store, MemoryAggregates):
        loads, writes = kit.store.loads, kit.store.writes
        await kit.changes.change("c1", bump(events=1), cause=reported())
        assert (kit.store.loads - loads, kit.store.writes - writes) == (1, 1)
    else:
        assert kit.commands is not None
        kit.commands.names.clear()
        await kit.changes.change("c1", bump(events=1), cause=reported())
        assert kit.commands.names == ["find", "update"]


async def test_before_runs_on_each_read_before_its_decision(kit: Kit) -> None:
    await kit.changes.create("c1", Counter("ann"))
    steps: list[str] = []

    async def before(s: Stored[Counter]) -> None:
        steps.append(f"before {s.value.count}")
        if s.value.count == 0:
            await kit.changes.change("c1", bump(10))  # someone writes meanwhile

    def decide(s: Stored[Counter]) -> Decision[Counter]:
        steps.append(f"decide {s.value.count}")
        return bump()(s)

    changed = await kit.changes.change("c1", decide, before=before)
    assert steps == ["before 0", "decide 0", "before 10", "decide 10"]
    assert changed.value.count == 11
