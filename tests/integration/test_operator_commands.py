"""``rinnovo outbox status`` and ``rinnovo consumers`` on the real servers, run as an
operator runs them, and the consumer-lag gauge a service keeps from the same reading.
(Dead letters, listed, fixed and replayed through the running services: tests/e2e.)"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pymongo import AsyncMongoClient

from rinnovo.contracts.topics import ORDERS_ORDER
from rinnovo.runtime.aggregates import new_document
from rinnovo.runtime.consumer_groups import ConsumerGroups
from rinnovo.runtime.kafka import ensure_topics
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.ops.dead_letters import read_dead_letters
from rinnovo.runtime.outbox import RelayLease
from rinnovo.runtime.probes import Probes
from rinnovo.runtime.settings import InfraSettings
from rinnovo.testing.events import payment_registered
from tests.operator import rinnovo

pytestmark = pytest.mark.integration

Mongo = AsyncMongoClient[dict[str, Any]]


def environment(infra: InfraSettings, **services: str) -> dict[str, str]:
    """A deployment's settings: its servers, and which services it runs with which
    database or group (``orders_database=...``)."""
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap_servers,
        "MONGODB_URL": infra.mongodb_url.get_secret_value(),
        "KAFKA_TOPIC_PREFIX": infra.kafka_topic_prefix,
        "RINNOVO_SERVICES": "orders,payments,portal",
    }
    return env | {f"RINNOVO_{k.upper()}": v for k, v in services.items()}


async def test_outbox_status_shows_what_waits_and_who_relays_it(
    infra: InfraSettings, mongo: Mongo, database_name: Callable[[str], str]
) -> None:
    orders_db = database_name("orders")
    db = mongo[orders_db]
    two_minutes_ago = datetime.now(UTC) - timedelta(minutes=2)
    await db["services"].insert_many(
        [
            new_document("s1", {"state": {}}, [payment_registered(two_minutes_ago)]),
            new_document("s2", {"state": {}}, [payment_registered(datetime.now(UTC))] * 2),
            new_document("s3", {"state": {}}),  # nothing to publish
        ]
    )
    lease = RelayLease(db["outbox_relay_leases"], "orders", 30)
    assert await lease.hold()
    env = environment(infra, orders_database=orders_db, payments_database=database_name("payments"))

    [orders] = (await rinnovo(env, "outbox", "status", "--json")).json()

    assert orders["service"] == "orders"  # payments has no database yet, the portal none
    assert (orders["pending_documents"], orders["pending_events"]) == (2, 3)
    assert 120 <= orders["oldest_event_age_seconds"] < 300
    assert orders["oldest_event_at"] == two_minutes_ago.isoformat()
    assert orders["lease"]["holder"] == lease.holder
    assert orders["lease"]["held"] is True
    text = await rinnovo(env, "outbox", "status")
    assert text.code == 0
    assert f"orders ({orders_db}): 2 documents, 3 events pending" in text.out


@pytest.fixture
async def group_with_lag(infra: InfraSettings) -> AsyncIterator[tuple[str, str]]:
    """A group with one live member on a topic of three partitions: five records on the
    first, two of them committed."""
    await ensure_topics(infra, [ORDERS_ORDER])
    topic, group = infra.kafka_topic_prefix + ORDERS_ORDER.name, f"g{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    try:
        for n in range(5):
            await producer.send_and_wait(topic, f"{n}".encode(), partition=0)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        group_id=group,
        client_id="lagging-member",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        async with asyncio.timeout(60):
            while len(consumer.assignment()) < 3:
                await asyncio.sleep(0.1)
        await consumer.commit({TopicPartition(topic, 0): 2})
        yield topic, group
    finally:
        await consumer.stop()


async def test_consumers_shows_each_group_its_members_and_lag(
    infra: InfraSettings, group_with_lag: tuple[str, str]
) -> None:
    topic, group = group_with_lag
    env = environment(infra, orders_consumer_group=group, payments_consumer_group="none-yet")

    [orders] = (await rinnovo(env, "consumers", "--json")).json()

    assert (orders["service"], orders["group"], orders["state"]) == ("orders", group, "Stable")
    [member] = orders["members"]
    assert member["client_id"] == "lagging-member"
    assert sorted(tuple(p) for p in member["partitions"]) == [(topic, 0), (topic, 1), (topic, 2)]
    by_partition = {p["partition"]: p for p in orders["partitions"]}
    assert (by_partition[0]["end"], by_partition[0]["committed"], by_partition[0]["lag"]) == (
        5,
        2,
        3,
    )
    assert by_partition[1]["committed"] is None and by_partition[1]["lag"] == 0
    assert orders["lag"] == 3
    text = await rinnovo(env, "consumers")
    assert f"{group} (orders): Stable, 1 members, lag 3" in text.out


async def test_a_service_reports_its_groups_lag_per_partition(
    infra: InfraSettings, group_with_lag: tuple[str, str]
) -> None:
    topic, group = group_with_lag
    metrics = Metrics()

    async def ready() -> bool:
        return True

    kafka = {"bootstrap_servers": infra.kafka_bootstrap_servers}
    probes = Probes(metrics, ready, kafka, group, [topic], interval_seconds=1)
    groups = ConsumerGroups(kafka)
    try:
        await probes.probe(groups)
    finally:
        await groups.close()

    def lag(partition: int) -> float | None:
        labels = {"group": group, "topic": topic, "partition": str(partition)}
        return metrics.registry.get_sample_value("rinnovo_consumer_lag", labels)

    assert [lag(p) for p in range(3)] == [3, 0, 0]
    assert metrics.registry.get_sample_value("rinnovo_ready") == 1


async def test_every_dead_letter_is_read_each_time_from_a_topics_beginning(
    infra: InfraSettings,
) -> None:
    """A consumer assigned to a partition resets its position in the background; reading
    must start from the beginning whatever that reset does, every time."""
    await ensure_topics(infra, [ORDERS_ORDER])  # with its dead-letter twin
    topic = infra.kafka_topic_prefix + ORDERS_ORDER.dead_letter
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    try:
        for partition in (0, 2):
            await producer.send_and_wait(topic, b"{}", partition=partition)
    finally:
        await producer.stop()
    kafka = {"bootstrap_servers": infra.kafka_bootstrap_servers}

    for _ in range(8):
        letters = await read_dead_letters(kafka, topic)
        assert [letter.position for letter in letters] == ["0:0", "2:0"]
