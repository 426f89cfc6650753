"""The opt-in counts of database commands and Kafka requests a service exports on /metrics
(what ``make bench`` divides by the work done)."""

from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from rinnovo.runtime.io_metrics import KAFKA_REQUESTS, MONGO_COMMANDS
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import InfraSettings, ServiceSettings

pytestmark = pytest.mark.integration


def runtime(infra: InfraSettings, database: str, *, io_metrics: bool) -> ServiceRuntime:
    settings = ServiceSettings(infra=infra, database=database, io_metrics=io_metrics)
    return ServiceRuntime("probe", settings)


def count(service: ServiceRuntime, metric: str, **labels: str) -> float:
    return service.metrics.registry.get_sample_value(f"{metric}_total", labels) or 0.0


async def test_commands_and_kafka_requests_are_counted_when_asked(
    infra: InfraSettings, database_name: Any
) -> None:
    counted = runtime(infra, database_name("counted"), io_metrics=True)
    plain = runtime(infra, database_name("plain"), io_metrics=False)
    try:
        await counted.db["things"].insert_one({"_id": 1})
        await counted.db["things"].update_one({"_id": 1}, {"$set": {"n": 1}})
        assert await counted.db["things"].find_one({"_id": 1}) == {"_id": 1, "n": 1}
        await plain.db["things"].insert_one({"_id": 1})
        assert count(counted, MONGO_COMMANDS, command="insert") == 1
        assert count(counted, MONGO_COMMANDS, command="update") == 1
        assert count(counted, MONGO_COMMANDS, command="find") == 1

        producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
        topic = f"{infra.kafka_topic_prefix}io"
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"creates the topic, retrying meanwhile")
            before = count(counted, KAFKA_REQUESTS, api="Produce")
            for i in range(3):
                await producer.send_and_wait(topic, f"{i}".encode())
        finally:
            await producer.stop()
        assert count(counted, KAFKA_REQUESTS, api="Produce") == before + 3
        assert count(counted, KAFKA_REQUESTS, api="Metadata") >= 1

        exported = plain.metrics.registry.collect()
        assert not [m for m in exported if m.name in (MONGO_COMMANDS, KAFKA_REQUESTS)]
    finally:
        for service in (counted, plain):
            await service.mongo.drop_database(service.db.name)
            await service.mongo.close()
