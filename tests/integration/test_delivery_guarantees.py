"""Outbox, inbox, dead letters and a broker outage, on the real Kafka and MongoDB-wire server."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ProductSnapshot, ProductSnapshotPublished
from rinnovo.contracts.topics import CATALOG_PRODUCT
from rinnovo.devstack.stack import LocalStack
from rinnovo.runtime import aggregates
from rinnovo.runtime.clock import SystemClock
from rinnovo.runtime.events import Record, new_event
from rinnovo.runtime.kafka import OutboxPublisher
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.outbox import OutboxRelay
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import InfraSettings, ServiceSettings

pytestmark = pytest.mark.integration

Mongo = AsyncMongoClient[dict[str, Any]]


def a_product(product_id: str = "fe-standard", name: str | None = None) -> ProductSnapshot:
    product = read_seed().products[0]
    return product.model_copy(update={"product_id": product_id, "name": name or product.name})


def runtime_for(infra: InfraSettings, database: str, name: str = "probe") -> ServiceRuntime:
    settings = ServiceSettings(infra=infra, database=database, outbox_poll_seconds=0.05)
    return ServiceRuntime(name, settings, SystemClock())


def snapshot_event(product: ProductSnapshot, version: int = 1) -> Event:
    return new_event(
        ProductSnapshotPublished,
        payload=product,
        producer="test",
        aggregate_id=product.product_id,
        aggregate_version=version,
        occurred_at=datetime.now(UTC),
    )


class CrashAfterPublish:
    """Publishes, then dies before the relay can remove the events from the outbox."""

    def __init__(self, inner: OutboxPublisher) -> None:
        self.inner = inner

    async def publish(self, records: Sequence[Record]) -> None:
        await self.inner.publish(records)
        raise RuntimeError("relay killed after publishing")


async def test_outbox_survives_a_relay_killed_on_either_side_of_the_publish(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    mongo: Mongo,
    topic_reader: Callable[..., Awaitable[list[Any]]],
) -> None:
    db = mongo[database_name("catalog")]
    topic = infra.kafka_topic_prefix + CATALOG_PRODUCT.name
    # The state change and its event are one write; the relay was killed before publishing.
    product = a_product()
    change = aggregates.Change(
        {"snapshot": product.model_dump(mode="json")}, [snapshot_event(product)]
    )
    await aggregates.insert(db["products"], product.product_id, change)
    pending = await db["products"].find_one({"_id": "fe-standard"})
    assert pending is not None and len(pending["outbox"]) == 1
    event_id = pending["outbox"][0]["event_id"]

    runtime = runtime_for(infra, database_name("relay"))
    runtime.produces(CATALOG_PRODUCT)
    async with runtime.running():
        publisher = OutboxPublisher(runtime.producer, infra.kafka_topic_prefix)
        # Killed after publishing, before forgetting: the event is still in the outbox.
        crashing = OutboxRelay([db["products"]], CrashAfterPublish(publisher), Metrics())
        with pytest.raises(RuntimeError):
            await crashing.relay_once()
        still = await db["products"].find_one({"_id": "fe-standard"})
        assert still is not None and [r["event_id"] for r in still["outbox"]] == [event_id]
        # Restarted: published again, then forgotten.
        relay = OutboxRelay([db["products"]], publisher, Metrics())
        assert await relay.relay_once() == 1
        assert await relay.relay_once() == 0
    done = await db["products"].find_one({"_id": "fe-standard"})
    assert done is not None and done["outbox"] == [] and "outbox_pending" not in done

    records = await topic_reader(infra.kafka_bootstrap_servers, topic, at_least=2)
    assert [json.loads(r.value)["event_id"] for r in records] == [event_id, event_id]


async def test_events_added_while_the_relay_publishes_stay_in_the_outbox(
    database_name: Callable[[str], str], mongo: Mongo
) -> None:
    collection = mongo[database_name("relay")]["products"]
    first = aggregates.Change({"name": "a"}, [snapshot_event(a_product("p"))])
    await aggregates.insert(collection, "p", first)
    read_by_relay = await collection.find_one({"_id": "p"})
    assert read_by_relay is not None
    # The aggregate changes between the relay's read and its clean-up.
    second = aggregates.Change({"name": "b"}, [snapshot_event(a_product("p"), 2)])
    await aggregates.update(collection, "p", 1, second)
    await OutboxRelay.forget(collection, read_by_relay)
    after = await collection.find_one({"_id": "p"})
    assert after is not None
    assert [e["event_id"] for e in after["outbox"]] == [str(second.events[0].event_id)]
    assert after["outbox_pending"] is True


async def test_the_same_event_delivered_twice_changes_state_once(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    mongo: Mongo,
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    runtime = runtime_for(infra, database_name("inbox"))
    counters = runtime.db["counters"]

    async def count(event: Event) -> None:
        def increment(doc: Any) -> aggregates.Change:
            return aggregates.Change({"seen": (doc or {}).get("seen", 0) + 1})

        await aggregates.apply_once(counters, event.aggregate_id, str(event.event_id), increment)

    runtime.subscribe(CATALOG_PRODUCT, count)
    first, second = snapshot_event(a_product("p1")), snapshot_event(a_product("p1"), 2)
    async with runtime.running():
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
        await producer.start()
        try:
            topic = infra.kafka_topic_prefix + CATALOG_PRODUCT.name
            for event in (first, first, second):  # the first one redelivered
                await producer.send_and_wait(topic, event.model_dump_json().encode(), key=b"p1")
        finally:
            await producer.stop()

        async def both_seen() -> bool:
            doc = await counters.find_one({"_id": "p1"})
            return doc is not None and str(second.event_id) in doc["inbox"]

        await wait_until(both_seen)
    doc = await mongo[runtime.db.name]["counters"].find_one({"_id": "p1"})
    assert doc is not None and doc["seen"] == 2


async def test_poison_messages_go_to_the_dead_letter_topic_and_the_partition_flows(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    topic_reader: Callable[..., Awaitable[list[Any]]],
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    runtime = runtime_for(infra, database_name("poison"))
    seen: list[str] = []

    async def record(event: Event) -> None:
        seen.append(event.aggregate_id)

    runtime.subscribe(CATALOG_PRODUCT, record)
    good = snapshot_event(a_product("fe-x"))
    valid_envelope = json.loads(good.model_dump_json())
    poison = {
        "invalid_json": b'{"event_id": "not closed',
        "schema_violation": json.dumps({**valid_envelope, "payload": {"name": ""}}).encode(),
        "unknown_type": json.dumps({**valid_envelope, "type": "catalog.product.deleted"}).encode(),
    }
    topic = infra.kafka_topic_prefix + CATALOG_PRODUCT.name
    async with runtime.running():
        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
        await producer.start()
        try:
            for body in [*poison.values(), good.model_dump_json().encode()]:
                await producer.send_and_wait(topic, body, key=b"fe-x")  # one partition
        finally:
            await producer.stop()

        async def good_one_processed() -> bool:
            return seen == ["fe-x"]

        await wait_until(good_one_processed)

    dead = await topic_reader(infra.kafka_bootstrap_servers, topic + ".DLT", at_least=3)
    headers = [{k: v.decode() for k, v in r.headers} for r in dead]
    assert [h["dlt-reason"] for h in headers] == list(poison)
    assert [r.value for r in dead] == list(poison.values())
    assert all(h["dlt-original-topic"] == topic for h in headers)
    assert [int(h["dlt-original-offset"]) for h in headers] == [0, 1, 2]
    assert "payload" in headers[1]["dlt-error"]


async def test_events_written_while_kafka_is_down_are_published_once_it_is_back(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    local_stack: LocalStack,
    topic_reader: Callable[..., Awaitable[list[Any]]],
) -> None:
    if local_stack.kafka is None:
        pytest.skip("Kafka is external here; this test stops and restarts the local broker")
    kafka = local_stack.kafka
    runtime = runtime_for(infra, database_name("outage"))
    products = runtime.db["products"]
    runtime.produces(CATALOG_PRODUCT)
    runtime.with_outbox(products)
    names = [f"Prodotto {i}" for i in range(10)]

    async def rename(version: int) -> None:
        product = a_product(name=names[version])
        change = aggregates.Change({"name": product.name}, [snapshot_event(product, version + 1)])
        if version == 0:
            await aggregates.insert(products, product.product_id, change)
        else:
            await aggregates.update(products, product.product_id, version, change)
        runtime.wake_relay()

    async with runtime.running():
        for version in range(5):
            await rename(version)
        await asyncio.to_thread(kafka.stop)
        try:
            # Accepted while the broker is away: stored with their events, not yet published.
            for version in range(5, 10):
                await rename(version)
            await asyncio.sleep(2)
        finally:
            await asyncio.to_thread(kafka.start)
            await asyncio.to_thread(kafka.wait_ready, 120)
        topic = infra.kafka_topic_prefix + CATALOG_PRODUCT.name
        records = await topic_reader(
            infra.kafka_bootstrap_servers, topic, at_least=len(names), timeout=120
        )
    published = [json.loads(r.value) for r in records]
    # Every acknowledged change arrives, in order; a repeat is allowed, a loss is not.
    distinct = list(dict.fromkeys(e["event_id"] for e in published))
    by_id = {e["event_id"]: e for e in published}
    assert [by_id[i]["payload"]["name"] for i in distinct] == names
    assert [by_id[i]["aggregate_version"] for i in distinct] == list(range(1, 11))
    assert uuid.UUID(distinct[0])
