"""Fixtures shared by the cross-service tests: the real servers and per-test isolation."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from pymongo import AsyncMongoClient

from rinnovo.devstack.stack import LocalStack
from rinnovo.runtime.settings import InfraSettings
from rinnovo.testing.smtp import SmtpServer

pytest_plugins = ["rinnovo.devstack.pytest_plugin"]


@pytest.fixture
def infra(local_stack: LocalStack) -> InfraSettings:
    """The real servers, with topics of this test's own (a prefix) so tests never mix."""
    return InfraSettings(
        kafka_bootstrap_servers=local_stack.kafka_bootstrap_servers,
        mongodb_url=local_stack.mongodb_url,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:8]}.",
    )


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port that keeps every e-mail it accepts."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def database_name() -> Callable[[str], str]:
    suffix = uuid.uuid4().hex[:8]
    return lambda service: f"test_{service}_{suffix}"


@pytest.fixture
async def mongo(local_stack: LocalStack) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        local_stack.mongodb_url, tz_aware=True
    )
    yield client
    await client.close()


async def read_topic(
    bootstrap: str, topic: str, *, at_least: int, timeout: float = 30.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of a topic from the beginning, once at least ``at_least`` arrived.

    A plain aiokafka consumer without a group: what any integrator would see.
    """
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(timeout):
            while len(records) < at_least:
                batch = await consumer.getmany(timeout_ms=200)
                for partition_records in batch.values():
                    records.extend(partition_records)
            # Then anything else already there (duplicates would show up here): up to the
            # end offset of every partition, as it is now.
            while not consumer.assignment():
                for partition_records in (await consumer.getmany(timeout_ms=100)).values():
                    records.extend(partition_records)
            ends = await consumer.end_offsets(list(consumer.assignment()))
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                for partition_records in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Wait until ``check`` holds; fail with a clear message if it never does."""
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


@pytest.fixture
def topic_reader() -> Callable[..., Awaitable[list[ConsumerRecord[bytes, bytes]]]]:
    return read_topic


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[None]]:
    return eventually
