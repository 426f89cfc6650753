"""The ``schema_id`` header: stamped from the registered ids where a registry is configured,
absent (records exactly as before) where none is."""

import asyncio
from datetime import UTC, datetime
from typing import Any

from rinnovo.contracts.panel import UsageReported, UsageReportedPayload
from rinnovo.runtime.events import Record, new_event
from rinnovo.runtime.kafka import BrokerPublisher
from rinnovo.runtime.registry import SCHEMA_ID_HEADER, SchemaIds, subject

AT = datetime(2026, 3, 1, tzinfo=UTC)


class Broker:
    """Records what would be published (a unit test: no Kafka here)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def publish(self, value: bytes, topic: str, **options: Any) -> asyncio.Future[None]:
        self.sent.append({"topic": topic, **options})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


def record() -> Record:
    payload = UsageReportedPayload(service_id="s1", used_bytes=10, measured_at=AT)
    event = new_event(
        UsageReported,
        payload=payload,
        producer="panel",
        aggregate_id="s1",
        aggregate_version=1,
        occurred_at=AT,
    )
    return Record.of(event)


async def test_a_registered_type_gets_its_schema_id() -> None:
    broker = Broker()
    ids = SchemaIds({"panel.usage.reported": 42})
    await BrokerPublisher(broker, "p.", ids.headers).publish([record()])  # type: ignore[arg-type]
    [sent] = broker.sent
    assert sent["topic"] == "p.panel.usage.v1"
    assert sent["headers"][SCHEMA_ID_HEADER] == "42"
    assert sent["headers"]["ce_type"] == "panel.usage.reported"


async def test_without_a_registry_the_headers_are_the_records_own() -> None:
    broker = Broker()
    original = record()
    await BrokerPublisher(broker).publish([original])  # type: ignore[arg-type]
    assert broker.sent[0]["headers"] == dict(original.headers)
    assert SchemaIds({}).headers(original) == {}


def test_a_subject_is_the_topic_and_the_event_type() -> None:
    assert subject("orders.order.v1", "orders.order.paid") == "orders.order.v1-orders.order.paid"
    assert subject("orders.order.v1", "orders.order.paid", "t1.") == (
        "t1.orders.order.v1-orders.order.paid"
    )
