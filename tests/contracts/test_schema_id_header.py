"""The ``schema_id`` header: stamped from the registered ids where a registry is configured,
absent (records exactly as before) where none is."""

from collections.abc import Sequence
from datetime import UTC, datetime

from rinnovo.contracts.panel import UsageReported, UsageReportedPayload
from rinnovo.runtime.events import Record, new_event
from rinnovo.runtime.kafka import OutboxPublisher
from rinnovo.runtime.producer import Message
from rinnovo.runtime.registry import SCHEMA_ID_HEADER, SchemaIds, subject

AT = datetime(2026, 3, 1, tzinfo=UTC)


class Producer:
    """Records what would be sent (a unit test: no Kafka here)."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send_all(self, messages: Sequence[Message]) -> None:
        self.sent.extend(messages)


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
    producer = Producer()
    ids = SchemaIds({"panel.usage.reported": 42})
    await OutboxPublisher(producer, "p.", ids.headers).publish([record()])  # type: ignore[arg-type]
    [sent] = producer.sent
    assert sent.topic == "p.panel.usage.v1"
    assert sent.headers is not None
    assert sent.headers[SCHEMA_ID_HEADER] == "42"
    assert sent.headers["ce_type"] == "panel.usage.reported"


async def test_without_a_registry_the_headers_are_the_records_own() -> None:
    producer = Producer()
    original = record()
    await OutboxPublisher(producer).publish([original])  # type: ignore[arg-type]
    assert producer.sent[0].headers == dict(original.headers)
    assert SchemaIds({}).headers(original) == {}


def test_a_subject_is_the_topic_and_the_event_type() -> None:
    assert subject("orders.order.v1", "orders.order.paid") == "orders.order.v1-orders.order.paid"
    assert subject("orders.order.v1", "orders.order.paid", "t1.") == (
        "t1.orders.order.v1-orders.order.paid"
    )
