"""Consuming in batches on the real Kafka and MongoDB-wire server: a batch mixing good,
poison and conflicting messages, its offsets committed only after its effects, a crash
between its write and its commit, and its write as one command per kind."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient

from rinnovo.contracts.topics import PANEL_USAGE
from rinnovo.devstack.stack import LocalStack
from rinnovo.runtime.changes import Changes, Decision, Stored, Write
from rinnovo.runtime.kafka import client_options
from rinnovo.runtime.mongo_aggregates import MongoAggregates
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import InfraSettings
from rinnovo.testing.batches import (
    CODEC,
    POISON,
    Tally,
    batch_consumer,
    counting,
    record,
    usage,
)
from rinnovo.testing.commands import Commands
from tests.integration.test_delivery_guarantees import runtime_for

pytestmark = pytest.mark.integration

Mongo = AsyncMongoClient[dict[str, Any]]
Reader = Callable[..., Awaitable[list[Any]]]


async def one_partition(infra: InfraSettings) -> str:
    """The topic with one partition, so that what is sent before the consumer starts is
    fetched as one batch."""
    topic = infra.kafka_topic_prefix + PANEL_USAGE.name
    admin = AIOKafkaAdminClient(**client_options(infra))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in (topic, topic + ".DLT")])
    finally:
        await admin.close()
    return topic


async def send(infra: InfraSettings, topic: str, bodies: Sequence[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(**client_options(infra))
    await producer.start()
    try:
        for key, body in bodies:
            await producer.send_and_wait(topic, body, key=key.encode())
    finally:
        await producer.stop()


async def committed(infra: InfraSettings, group: str, topic: str) -> int:
    """The group's committed offset of the topic's one partition (0: none)."""
    admin = AIOKafkaAdminClient(**client_options(infra))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    found = offsets.get(TopicPartition(topic, 0))
    return 0 if found is None or found.offset < 0 else found.offset


async def end_offset(infra: InfraSettings, topic: str) -> int:
    consumer = AIOKafkaConsumer(**client_options(infra))
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        return int((await consumer.end_offsets([partition]))[partition])
    finally:
        await consumer.stop()


async def seeded(runtime: ServiceRuntime, *ids: str) -> MongoAggregates[Tally]:
    store = MongoAggregates(runtime.db["tallies"], CODEC)
    for id_ in ids:
        await Changes(store).create(id_, Tally(id_))
    return store


async def tally_of(store: MongoAggregates[Tally], id_: str) -> Tally:
    return (await store.load([id_]))[id_].value


class Gate:
    """The store, whose writes wait until the test opens the gate; then, just before the
    first write, someone else (an HTTP request) changes ``victim``: that write loses."""

    def __init__(self, store: MongoAggregates[Tally], victim: str) -> None:
        self.store = store
        self.victim = victim
        self.reached = asyncio.Event()
        self.opened = asyncio.Event()
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Sequence[Write[Tally]]) -> list[Stored[Tally] | None]:
        self.reached.set()
        await self.opened.wait()
        self.calls += 1
        if self.calls == 1:
            await Changes(self.store).change(
                self.victim, lambda s: Decision(replace(s.value, count=s.value.count + 100))
            )
        return await self.store.write(writes)


async def test_a_batch_of_good_poison_and_conflicting_messages(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    topic_reader: Reader,
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    topic = await one_partition(infra)
    runtime = runtime_for(infra, database_name("batch"))
    store = await seeded(runtime, "s0", "s3")
    gate = Gate(store, victim="s3")
    runtime.subscribe(PANEL_USAGE, counting(Changes(gate)))
    good = usage("s0", 2).model_dump_json()
    bodies = [
        ("s0", usage("s0", 0).model_dump_json().encode()),
        ("s1", b'{"event_id": "not closed'),
        ("s0", usage("s0", POISON).model_dump_json().encode()),
        ("s2", good.replace('"used_bytes":2', '"used_bytes":-1').encode()),
        ("s0", good.encode()),
        ("s3", usage("s3", 3).model_dump_json().encode()),
    ]
    await send(infra, topic, bodies)
    async with runtime.running():
        await asyncio.wait_for(gate.reached.wait(), 60)
        # Handled and not yet written: nothing of the batch is committed.
        assert await committed(infra, runtime.group_id, topic) == 0
        gate.opened.set()

        async def all_committed() -> bool:
            return await committed(infra, runtime.group_id, topic) == len(bodies)

        await wait_until(all_committed)
        s0, s3 = await tally_of(store, "s0"), await tally_of(store, "s3")
    # The batch's write; then, alone, s0's event after its poison and s3's conflicting one.
    assert gate.calls == 3
    assert s0.seen == (0, 2)  # in order, the poison left out
    assert (s3.count, s3.seen) == (101, (3,))  # the conflict, done again on fresh state
    dead = await topic_reader(infra.kafka_bootstrap_servers, topic + ".DLT", at_least=3)
    headers = [{k: v.decode() for k, v in r.headers} for r in dead]
    assert [h["dlt-reason"] for h in headers] == ["invalid_json", "schema_violation", "refused"]
    assert [int(h["dlt-original-offset"]) for h in headers] == [1, 3, 2]
    assert await end_offset(infra, topic) == len(bodies)


class DiesAfterWriting:
    """The store of a process that dies once its batch is written, before the commit."""

    def __init__(self, store: MongoAggregates[Tally]) -> None:
        self.store = store
        self.written = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Sequence[Write[Tally]]) -> list[Stored[Tally] | None]:
        await self.store.write(writes)
        self.written.set()
        await asyncio.Event().wait()  # never returns: the process is gone
        raise AssertionError("unreachable")


async def test_a_crash_between_the_batch_write_and_its_commit_changes_nothing(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    mongo: Mongo,
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    topic = await one_partition(infra)
    database = database_name("crash")
    first = runtime_for(infra, database)
    store = await seeded(first, "s0", "s1")
    dying = DiesAfterWriting(store)

    def emitting(changes: Changes[Tally]) -> Callable[[Any], Awaitable[None]]:
        async def handle(event: Any) -> None:
            def decide(s: Stored[Tally]) -> Decision[Tally]:
                seen = (*s.value.seen, event.payload.used_bytes)
                return Decision(replace(s.value, seen=seen), [usage(s.id, s.next_version)])

            await changes.change(event.payload.service_id, decide, cause=event)

        return handle

    first.subscribe(PANEL_USAGE, emitting(Changes(dying)))
    events = [usage(f"s{n % 2}", n) for n in range(6)]
    await send(infra, topic, [(e.aggregate_id, e.model_dump_json().encode()) for e in events])
    async with first.running():
        await asyncio.wait_for(dying.written.wait(), 60)
    assert await committed(infra, first.group_id, topic) == 0
    tallies = mongo[database]["tallies"]
    before = await tallies.find().sort("_id").to_list()
    assert [len(d["outbox"]) for d in before] == [3, 3]

    second = runtime_for(infra, database)
    handled: list[str] = []
    count = emitting(Changes(MongoAggregates(second.db["tallies"], CODEC)))

    async def redelivered(event: Any) -> None:
        handled.append(str(event.event_id))
        await count(event)

    second.subscribe(PANEL_USAGE, redelivered)
    async with second.running():

        async def all_committed() -> bool:
            return await committed(infra, second.group_id, topic) == len(events)

        await wait_until(all_committed)
    assert sorted(handled) == sorted(str(e.event_id) for e in events)  # all came again
    assert await tallies.find().sort("_id").to_list() == before  # and changed nothing


async def test_a_batch_is_one_read_and_one_write_command_per_kind(local_stack: LocalStack) -> None:
    commands = Commands()
    client: Mongo = AsyncMongoClient(
        local_stack.mongodb_url, tz_aware=True, event_listeners=[commands]
    )
    try:
        collection = client[f"test_flush_{uuid.uuid4().hex[:8]}"]["tallies"]
        store = MongoAggregates(collection, CODEC)
        changes = Changes(store)
        for n in range(20):
            await changes.create(f"s{n}", Tally(f"s{n}"))

        async def count_or_create(event: Any) -> None:
            if int(event.aggregate_id[1:]) < 20:
                await counting(changes)(event)
            else:
                await changes.create(event.aggregate_id, Tally("new"), cause=event)

        consumer, _ = batch_consumer([(PANEL_USAGE, count_or_create)])
        batch = [record(PANEL_USAGE.name, usage(f"s{n}", n), n) for n in range(30)]
        commands.names.clear()
        await consumer.handle(batch)
        # 20 changes read in one query and written in one update, 10 new ones in one insert.
        assert sorted(commands.names) == ["find", "insert", "update"]
        assert [(await tally_of(store, f"s{n}")).count for n in range(20)] == [1] * 20
        assert (await tally_of(store, "s25")).owner == "new"
    finally:
        await client.close()
