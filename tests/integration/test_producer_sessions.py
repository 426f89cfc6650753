"""The producer events leave through gets past a broken idempotent session, on the real broker.

After a broker restart, aiokafka may fail a batch that expired while its partition had no
leader, after that batch took its sequence number (``rinnovo.runtime.producer``). The broker
then refuses every later batch of the partition as out of order. These tests open that gap
the way aiokafka does (the sequence number taken, nothing written) and check that events
still leave: through the producer alone, and through the outbox relay.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import OutOfOrderSequenceNumber
from pymongo import AsyncMongoClient

from rinnovo.runtime import aggregates
from rinnovo.runtime.kafka import OutboxPublisher, client_options
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.outbox import OutboxRelay
from rinnovo.runtime.producer import Message, RecordProducer
from rinnovo.runtime.settings import InfraSettings
from tests.integration.test_delivery_guarantees import a_product, snapshot_event

pytestmark = pytest.mark.integration

Reader = Callable[..., Awaitable[list[Any]]]


async def one_partition_topic(infra: InfraSettings, name: str) -> str:
    topic = infra.kafka_topic_prefix + name
    admin = AIOKafkaAdminClient(**client_options(infra))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    return topic


def open_sequence_gap(producer: AIOKafkaProducer, topic: str) -> None:
    """What aiokafka does to a batch that expires without a leader: its sequence number is
    taken and nothing is written."""
    producer._txn_manager.increment_sequence_number(TopicPartition(topic, 0), 1)


def session_of(records: RecordProducer) -> AIOKafkaProducer:
    producer = records._producer
    assert producer is not None, "no session started yet"
    return producer


async def test_a_sequence_gap_stops_a_plain_idempotent_producer_for_good(
    infra: InfraSettings,
) -> None:
    """The failure the replaceable producer exists for, on the real broker."""
    topic = await one_partition_topic(infra, "gap.plain")
    producer = AIOKafkaProducer(**client_options(infra), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before")
        open_sequence_gap(producer, topic)
        for _ in range(3):
            with pytest.raises(OutOfOrderSequenceNumber):
                await producer.send_and_wait(topic, b"after")
    finally:
        await producer.stop()


async def test_the_producer_starts_a_new_session_after_a_sequence_gap(
    infra: InfraSettings, topic_reader: Reader
) -> None:
    topic = await one_partition_topic(infra, "gap.records")
    records = RecordProducer(client_options(infra))
    try:
        await records.send_all([Message(topic, b"before", b"k")])
        open_sequence_gap(session_of(records), topic)

        with pytest.raises(OutOfOrderSequenceNumber):
            await records.send_all([Message(topic, b"refused", b"k")])
        await records.send_all([Message(topic, b"after", b"k", {"ce_id": "e-after"})])
    finally:
        await records.stop()

    assert records.sessions == 2
    found = await topic_reader(infra.kafka_bootstrap_servers, topic, at_least=2)
    assert [r.value for r in found] == [b"before", b"after"]
    assert dict(found[1].headers) == {"ce_id": b"e-after"}


async def test_the_relay_publishes_everything_after_a_sequence_gap(
    infra: InfraSettings,
    mongo: AsyncMongoClient[dict[str, Any]],
    database_name: Callable[[str], str],
    topic_reader: Reader,
) -> None:
    """The relay's failed pass leaves the events in the outbox; the next pass, on a new
    producer session, publishes them (none lost, none held back)."""
    topic = await one_partition_topic(infra, "catalog.product.v1")
    products = mongo[database_name("gap")]["products"]
    records = RecordProducer(client_options(infra))
    relay = OutboxRelay([products], OutboxPublisher(records, infra.kafka_topic_prefix), Metrics())
    names = [f"Prodotto {i}" for i in range(4)]

    async def rename(version: int) -> None:
        product = a_product(name=names[version])
        change = aggregates.Change({"name": product.name}, [snapshot_event(product, version + 1)])
        if version == 0:
            await aggregates.insert(products, product.product_id, change)
        else:
            await aggregates.update(products, product.product_id, version, change)

    try:
        await rename(0)
        assert await relay.relay_once() == 1
        open_sequence_gap(session_of(records), topic)
        for version in (1, 2, 3):
            await rename(version)
        with pytest.raises(OutOfOrderSequenceNumber):
            await relay.relay_once()
        assert await relay.relay_once() == 3
        assert await relay.relay_once() == 0
    finally:
        await records.stop()

    published = [
        json.loads(r.value)
        for r in await topic_reader(infra.kafka_bootstrap_servers, topic, at_least=len(names))
    ]
    assert [e["payload"]["name"] for e in published] == names
