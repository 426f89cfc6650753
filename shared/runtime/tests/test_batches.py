"""Batches of consumed events through the unit of work, on the in-memory store: what is read
together, what each event decides on, what is written and when, what is handled again alone."""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from rinnovo.contracts import Event
from rinnovo.contracts.topics import PANEL_USAGE
from rinnovo.runtime.changes import Changes, Decision, Stored, Write
from rinnovo.testing.aggregates import MemoryAggregates
from rinnovo.testing.batches import (
    CODEC,
    POISON,
    Tally,
    add,
    batch_consumer,
    counting,
    record,
    usage,
)

TOPIC = PANEL_USAGE.name


async def seeded(*ids: str) -> MemoryAggregates[Tally]:
    store: MemoryAggregates[Tally] = MemoryAggregates(CODEC)
    for id_ in ids:
        await Changes(store).create(id_, Tally(id_))
    return store


async def tally_of(store: MemoryAggregates[Tally], id_: str) -> Stored[Tally]:
    found = (await store.load([id_])).get(id_)
    assert found is not None
    return found


class Meddling:
    """The store, where someone else (an HTTP request, a scheduler) changes ``victim`` just
    before the batch's first write: that write of ``victim`` loses."""

    def __init__(self, store: MemoryAggregates[Tally], victim: str) -> None:
        self.store = store
        self.victim = victim
        self.meddled = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Sequence[Write[Tally]]) -> list[Stored[Tally] | None]:
        if not self.meddled:
            self.meddled = True
            await Changes(self.store).change(
                self.victim, lambda s: Decision(replace(s.value, count=s.value.count + 100))
            )
        return await self.store.write(writes)


async def test_reads_asked_together_are_one_query_and_the_writes_one_call() -> None:
    ids = [f"s{i}" for i in range(20)]
    store = await seeded(*ids)
    consumer, _ = batch_consumer([(PANEL_USAGE, counting(Changes(store)))])
    records = [record(TOPIC, usage(id_, 1), n, partition=n % 3) for n, id_ in enumerate(ids)]
    loads, writes = store.loads, store.writes
    await consumer.handle(records)
    assert (store.loads - loads, store.writes - writes) == (1, 1)
    assert [(await tally_of(store, id_)).value.count for id_ in ids] == [1] * 20


async def test_second_reads_are_a_second_query() -> None:
    store = await seeded(*[f"s{i}" for i in range(6)], "group-0", "group-1")
    changes = Changes(store)

    async def to_group(event: Event) -> None:
        service_id = event.payload.service_id
        read = await changes.get(service_id)  # first read: the service
        assert read is not None
        group = f"group-{int(service_id[1:]) % 2}"  # second read: its group
        await changes.change(group, add(event), cause=event)

    consumer, _ = batch_consumer([(PANEL_USAGE, to_group)])
    loads = store.loads
    await consumer.handle([record(TOPIC, usage(f"s{i}", i), i) for i in range(6)])
    assert store.loads - loads == 2
    assert sorted((await tally_of(store, "group-0")).value.seen) == [0, 2, 4]
    assert sorted((await tally_of(store, "group-1")).value.seen) == [1, 3, 5]


async def test_events_of_different_keys_on_one_aggregate_decide_one_after_the_other() -> None:
    store = await seeded("total")
    changes = Changes(store)

    async def to_total(event: Event) -> None:
        await changes.change("total", add(event), cause=event)

    consumer, _ = batch_consumer([(PANEL_USAGE, to_total)])
    events = [usage(f"s{i}", i) for i in range(10)]
    writes = store.writes
    await consumer.handle([record(TOPIC, e, i, partition=i % 3) for i, e in enumerate(events)])
    total = await tally_of(store, "total")
    assert total.value.count == 10 and sorted(total.value.seen) == list(range(10))
    assert total.version == 11  # as ten changes one after the other would leave it
    assert set(total.inbox) == {str(e.event_id) for e in events}
    assert store.writes - writes == 1


async def test_a_keys_events_take_effect_in_partition_order() -> None:
    store = await seeded("s0")
    consumer, _ = batch_consumer([(PANEL_USAGE, counting(Changes(store)))])
    records = [record(TOPIC, usage("s0", n), n) for n in range(5)]
    await consumer.handle([records[3], records[0], records[4], records[2], records[1]])
    assert (await tally_of(store, "s0")).value.seen == (0, 1, 2, 3, 4)


async def test_a_write_lost_to_someone_else_is_done_again_alone() -> None:
    store = await seeded("s0", "s1", "s2")
    consumer, _ = batch_consumer([(PANEL_USAGE, counting(Changes(Meddling(store, "s1"))))])
    writes = store.writes
    await consumer.handle([record(TOPIC, usage(f"s{i}", i), i) for i in range(3)])
    assert [(await tally_of(store, f"s{i}")).value.count for i in range(3)] == [1, 101, 1]
    assert (await tally_of(store, "s1")).value.seen == (1,)  # its event applied once
    assert store.writes - writes == 3  # someone else's, the batch's, then s1's alone


async def test_a_second_step_is_written_only_once_its_first_is() -> None:
    firsts, seconds = await seeded("s0", "s1"), await seeded("s0", "s1")
    first, second = Changes(Meddling(firsts, victim="s1")), Changes(seconds)

    async def two_steps(event: Event) -> None:
        """Copies the first aggregate's count into the second (orders: order, then service)."""
        done = await first.change(event.payload.service_id, add(event), cause=event)
        count = done.value.count

        def copy(s: Stored[Tally]) -> Decision[Tally]:
            return Decision(replace(s.value, count=count))

        await second.change(event.payload.service_id, copy, cause=event)

    consumer, _ = batch_consumer([(PANEL_USAGE, two_steps)])
    writes = seconds.writes
    await consumer.handle([record(TOPIC, usage(f"s{i}", i), i) for i in range(2)])
    # s1's first step lost its write: its second was not written with the batch, but after
    # the event was handled again alone, from the first step's fresh state.
    assert [(await tally_of(seconds, f"s{i}")).value.count for i in range(2)] == [1, 101]
    assert [(await tally_of(firsts, f"s{i}")).value.count for i in range(2)] == [1, 101]
    assert seconds.writes - writes == 2  # the batch's (s0), then s1's alone


class FailsOnce:
    """The store; its first write fails as if the database went away."""

    def __init__(self, store: MemoryAggregates[Tally]) -> None:
        self.store = store
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Sequence[Write[Tally]]) -> list[Stored[Tally] | None]:
        if not self.failed:
            self.failed = True
            raise AutoReconnect("connection closed")
        return await self.store.write(writes)


async def test_a_first_step_already_stored_lets_the_second_complete() -> None:
    """The database goes away after the batch's first steps were written: the batch is tried
    again, finds each first step in its aggregate's inbox, and completes the second."""
    firsts, seconds = await seeded("s0", "s1"), await seeded("s0", "s1")
    first, second = Changes(firsts), Changes(FailsOnce(seconds))

    async def two_steps(event: Event) -> None:
        done = await first.change(event.payload.service_id, add(event), cause=event)
        count = done.value.count
        await second.change(
            event.payload.service_id,
            lambda s: Decision(replace(s.value, count=count, seen=done.value.seen)),
            cause=event,
        )

    consumer, _ = batch_consumer([(PANEL_USAGE, two_steps)])
    await consumer.handle([record(TOPIC, usage(f"s{i}", i), i) for i in range(2)])
    for i in range(2):
        assert (await tally_of(firsts, f"s{i}")).value.seen == (i,)  # applied once
        assert (await tally_of(seconds, f"s{i}")).value.seen == (i,)


async def test_a_redelivered_batch_changes_nothing() -> None:
    store = await seeded("s0", "s1")
    consumer, _ = batch_consumer([(PANEL_USAGE, counting(Changes(store)))])
    batch = [record(TOPIC, usage(f"s{i % 2}", i), i) for i in range(4)]
    await consumer.handle(batch)
    before = [await tally_of(store, id_) for id_ in ("s0", "s1")]
    writes = store.writes
    await consumer.handle(batch)  # the commit was lost: the same batch again
    assert [await tally_of(store, id_) for id_ in ("s0", "s1")] == before
    assert store.writes == writes


async def test_poison_and_conflicts_are_each_handled_as_alone() -> None:
    store = await seeded("s0", "s3")
    meddling = Meddling(store, victim="s3")
    consumer, kept = batch_consumer([(PANEL_USAGE, counting(Changes(meddling)))])
    good = usage("s0", 1)
    bad = good.model_dump_json().replace('"used_bytes":1', '"used_bytes":-1').encode()
    batch = [
        record(TOPIC, usage("s0", 0), 0),
        record(TOPIC, b'{"event_id": "not closed', 1, key="s1"),
        record(TOPIC, usage("s0", POISON), 2),
        record(TOPIC, bad, 3, key="s2"),
        record(TOPIC, usage("s0", 2), 4),
        record(TOPIC, usage("s3", 3), 5),
    ]
    await consumer.handle(batch)
    assert kept.reasons() == ["invalid_json", "schema_violation", "refused"]
    assert [int((m.headers or {})["dlt-original-offset"]) for m in kept.sent] == [1, 3, 2]
    assert (await tally_of(store, "s0")).value.seen == (0, 2)  # in order, the poison left out
    assert (await tally_of(store, "s3")).value.count == 101  # the conflict, done again


async def test_a_query_over_changes_not_yet_written_is_made_alone() -> None:
    store = await seeded("s0", "s1")
    changes = Changes(store)
    found: list[int] = []

    async def change_then_find(event: Event) -> None:
        await changes.change(event.payload.service_id, add(event), cause=event)
        found.append(len(await changes.find({"state.count": 1})))

    consumer, _ = batch_consumer([(PANEL_USAGE, change_then_find)])
    await consumer.handle([record(TOPIC, usage(f"s{i}", i), i) for i in range(2)])
    assert found == [1, 2]  # alone, each after the other: the query sees what was written
    assert [(await tally_of(store, f"s{i}")).value.count for i in range(2)] == [1, 1]


async def test_changes_that_cannot_be_ordered_are_made_alone() -> None:
    """Two events change the same two aggregates in opposite orders, each reading the
    other's change: neither can be written first, so they are handled alone."""
    store = await seeded("x", "y")
    changes = Changes(store)

    async def both(event: Event) -> None:
        order = ("x", "y") if event.payload.used_bytes == 0 else ("y", "x")
        for id_ in order:
            await changes.change(id_, add(event), cause=event)

    consumer, _ = batch_consumer([(PANEL_USAGE, both)])
    writes = store.writes
    await consumer.handle([record(TOPIC, usage("a", 0), 0), record(TOPIC, usage("b", 1), 1)])
    for id_ in ("x", "y"):
        assert sorted((await tally_of(store, id_)).value.seen) == [0, 1]  # each once
    assert store.writes - writes == 4  # none with the batch: two by each event alone


async def test_a_new_aggregate_that_exists_after_all_is_not_created_twice() -> None:
    store = await seeded("s0")
    changes = Changes(store)
    created: list[bool] = []

    async def create(event: Event) -> None:
        made = await changes.create(event.payload.service_id, Tally("new"), cause=event)
        created.append(made is not None)

    consumer, _ = batch_consumer([(PANEL_USAGE, create)])
    await consumer.handle([record(TOPIC, usage("s0", 0), 0), record(TOPIC, usage("s1", 1), 1)])
    assert (await tally_of(store, "s0")).value.owner == "s0"
    assert (await tally_of(store, "s1")).value.owner == "new"
    assert created == [True, True, False]  # s0's insert lost: alone, it finds it exists


@pytest.mark.parametrize("size", [1, 50])
async def test_the_relay_is_woken_once_events_are_stored(size: int) -> None:
    store = await seeded(*[f"s{i}" for i in range(size)])
    wakes: list[int] = []
    changes = Changes(store, lambda: wakes.append(len(store.events)))

    async def emit(event: Event) -> None:
        def decide(s: Stored[Tally]) -> Decision[Tally]:
            return Decision(s.value, [usage(s.id, s.next_version)])

        await changes.change(event.payload.service_id, decide, cause=event)

    consumer, _ = batch_consumer([(PANEL_USAGE, emit)])
    await consumer.handle([record(TOPIC, usage(f"s{i}", i), i) for i in range(size)])
    assert wakes == [size]  # once, after all of them were written
