"""The outbox relay in batches on the real servers: one query for the pending documents, one
send of all their records, one write forgetting them; a document changed meanwhile keeps
its newer events."""

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from rinnovo.contracts.topics import CATALOG_PRODUCT
from rinnovo.devstack.stack import LocalStack
from rinnovo.runtime import aggregates
from rinnovo.runtime.kafka import OutboxPublisher, client_options, ensure_topics
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.outbox import OUTBOX, PENDING, OutboxRelay
from rinnovo.runtime.producer import RecordProducer
from rinnovo.runtime.settings import InfraSettings
from rinnovo.testing.commands import Commands
from tests.integration.test_delivery_guarantees import a_product, snapshot_event

pytestmark = pytest.mark.integration

Mongo = AsyncMongoClient[dict[str, Any]]


async def pending_products(collection: Any, count: int, events: int) -> list[str]:
    """``count`` products, each with ``events`` events waiting; their ids in the order
    their events were written."""
    ids = [f"p{n:02d}" for n in range(count)]
    for id_ in ids:
        product = a_product(id_)
        change = aggregates.Change(
            {"name": product.name}, [snapshot_event(product, v + 1) for v in range(events)]
        )
        await aggregates.insert(collection, id_, change)
    return ids


async def test_a_pass_is_one_query_one_send_and_one_write(
    infra: InfraSettings,
    local_stack: LocalStack,
    topic_reader: Callable[..., Awaitable[list[Any]]],
) -> None:
    commands = Commands()
    client: Mongo = AsyncMongoClient(
        local_stack.mongodb_url, tz_aware=True, event_listeners=[commands]
    )
    producer = RecordProducer(client_options(infra))
    try:
        collection = client[f"test_relay_{uuid.uuid4().hex[:8]}"]["products"]
        ids = await pending_products(collection, 30, events=2)
        await ensure_topics(infra, [CATALOG_PRODUCT])
        relay = OutboxRelay(
            [collection], OutboxPublisher(producer, infra.kafka_topic_prefix), Metrics()
        )
        commands.names.clear()
        assert await relay.relay_once() == 60
        assert commands.names == ["find", "update"]
        left = await collection.count_documents({PENDING: True})
        assert left == 0 and await collection.count_documents({OUTBOX: {"$ne": []}}) == 0
    finally:
        await producer.stop()
        await client.close()
    topic = infra.kafka_topic_prefix + CATALOG_PRODUCT.name
    records = await topic_reader(infra.kafka_bootstrap_servers, topic, at_least=60)
    versions: dict[str, list[int]] = {}
    for r in records:
        event = json.loads(r.value)
        versions.setdefault(event["aggregate_id"], []).append(event["aggregate_version"])
    assert versions == {id_: [1, 2] for id_ in ids}  # each product's events in order


async def test_documents_changed_while_their_events_left_keep_the_newer_ones(
    database_name: Callable[[str], str], mongo: Mongo
) -> None:
    collection = mongo[database_name("relay")]["products"]
    await pending_products(collection, 3, events=1)
    read_by_relay = await collection.find({PENDING: True}).sort("_id").to_list()
    newer = snapshot_event(a_product("p01"), 2)
    await aggregates.update(collection, "p01", 1, aggregates.Change({"name": "renamed"}, [newer]))
    await OutboxRelay.forget_all(collection, read_by_relay)
    after = {d["_id"]: d for d in await collection.find().to_list()}
    assert [e["event_id"] for e in after["p01"][OUTBOX]] == [str(newer.event_id)]
    assert after["p01"][PENDING] is True
    for id_ in ("p00", "p02"):
        assert after[id_][OUTBOX] == [] and PENDING not in after[id_]
