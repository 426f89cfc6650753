"""What is still in flight in a running system, read from facts rather than waited out.

A system has settled when every service's outbox is drained (no document flags events to
publish), the notifier has no delivery left to make, and every consuming group has committed
the end offset of each partition it reads, twice in a row with no record added anywhere
between the two looks: a message consumed between them would have written an outbox or moved
an end offset, and been seen. (A notifier killed after the SMTP server accepted an e-mail,
before it recorded so, leaves the notification pending until its lease ends; it is sent
again then, with the same Message-ID.)
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from rinnovo.runtime.outbox import PENDING

ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "asyncapi"


@dataclass(frozen=True)
class InFlight:
    pending: Mapping[str, int]
    """Service → documents whose outbox still holds events to publish."""
    lag: Mapping[str, int]
    """Service → records on its topics that its group has not committed yet."""
    ends: Mapping[str, int]
    """Partition → end offset, over every topic consumed."""
    undelivered: int = 0
    """The notifier's notifications still to be delivered (or retried)."""

    @property
    def idle(self) -> bool:
        return (
            not any(self.pending.values()) and not any(self.lag.values()) and not self.undelivered
        )


@cache
def consumed_topics(service: str) -> tuple[str, ...]:
    """The topics a service's AsyncAPI document says it receives from."""
    document = json.loads((ASYNCAPI / f"{service}.json").read_text())
    channels = document.get("channels", {})
    topics = set()
    for operation in document.get("operations", {}).values():
        if operation["action"] == "receive":
            name = operation["channel"]["$ref"].rsplit("/", 1)[-1]
            topics.add(channels[name]["address"])
    return tuple(sorted(topics))


async def outbox_pending(client: AsyncMongoClient[dict[str, Any]], database: str) -> int:
    db = client[database]
    return sum(
        [await db[c].count_documents({PENDING: True}) for c in await db.list_collection_names()]
    )


async def group_positions(
    kafka: Mapping[str, Any], group: str, topics: Iterable[str]
) -> dict[TopicPartition, tuple[int, int]]:
    """Each partition of ``topics`` → (end offset, the group's committed offset or 0)."""
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(**kafka)
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata, every topic's partitions included
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return {}
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp: (ends[tp], committed[tp].offset if tp in committed else 0) for tp in partitions}


async def in_flight(
    kafka: Mapping[str, Any],
    mongodb_url: str,
    prefix: str,
    databases: Mapping[str, str],
    groups: Mapping[str, str],
) -> InFlight:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    try:
        pending = {name: await outbox_pending(client, db) for name, db in databases.items()}
        undelivered = await client[databases["notifier"]]["notifications"].count_documents(
            {"status": "pending"}
        )
    finally:
        await client.close()
    lag: dict[str, int] = {}
    ends: dict[str, int] = {}
    for name in databases:
        topics = [prefix + t for t in consumed_topics(name)]
        positions = await group_positions(kafka, groups[name], topics)
        lag[name] = sum(end - done for end, done in positions.values())
        ends |= {f"{tp.topic}-{tp.partition}": end for tp, (end, _) in positions.items()}
    return InFlight(pending=pending, lag=lag, ends=ends, undelivered=undelivered)
