"""A running catalog + orders pair on the real servers, and helpers to act as customers."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from httpx import ASGITransport, AsyncClient

from rinnovo.catalog.bootstrap import CatalogSettings
from rinnovo.catalog.bootstrap import build as build_catalog
from rinnovo.contracts.payments import PaymentRegistered, PaymentRegisteredPayload
from rinnovo.contracts.topics import PAYMENTS_PAYMENT
from rinnovo.orders.bootstrap import OrdersSettings
from rinnovo.orders.bootstrap import build as build_orders
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import ShiftedClock
from rinnovo.runtime.events import new_event
from rinnovo.runtime.outbox import PENDING
from rinnovo.runtime.plugins import BuiltService
from rinnovo.runtime.settings import InfraSettings

ACCEPTANCES = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}


def sweeps(runtime: Any) -> float:
    """Scheduler sweeps finished so far, as the service's metrics count them."""
    found = runtime.metrics.registry.get_sample_value(
        "rinnovo_sweeps_total", {"loop": "milestones"}
    )
    return found or 0.0


def bearer(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(AuthSettings(), subject, set(roles))}"}


@dataclass
class Stack:
    infra: InfraSettings
    catalog: BuiltService
    orders: BuiltService
    clock: ShiftedClock
    producer: AIOKafkaProducer
    wait_until: Callable[..., Awaitable[None]]

    def client(self, subject: str, *roles: str) -> AsyncClient:
        return AsyncClient(
            transport=ASGITransport(self.orders.app),
            base_url="http://orders",
            headers=bearer(subject, *roles),
        )

    def customer(self, customer_id: str) -> AsyncClient:
        return self.client(customer_id, "customer")

    def admin(self) -> AsyncClient:
        return self.client("ops", "admin")

    async def register_payment(
        self, order: dict[str, Any], payment_id: str, amount: int | None = None, times: int = 1
    ) -> PaymentRegistered:
        """Publish a PaymentRegistered as payments would; ``times`` > 1 redelivers it."""
        event = new_event(
            PaymentRegistered,
            payload=PaymentRegisteredPayload(
                payment_id=payment_id,
                order_id=order["order_id"],
                order_number=order["number"],
                method=order["payment_method"],
                amount_cents=order["total_cents"] if amount is None else amount,
                registered_at=self.clock.now(),
            ),
            producer="payments",
            aggregate_id=payment_id,
            aggregate_version=1,
            occurred_at=datetime.now(UTC),
        )
        topic = self.infra.kafka_topic_prefix + PAYMENTS_PAYMENT.name
        for _ in range(times):
            await self.producer.send_and_wait(
                topic, event.model_dump_json().encode(), key=payment_id.encode()
            )
        return event

    def topic(self, name: str) -> str:
        return self.infra.kafka_topic_prefix + name

    async def travel_to(self, instant: datetime) -> None:
        """Move the orders service's clock to just after ``instant`` and wake its scheduler."""
        delta = instant - self.clock.now()
        seconds = max(int(delta.total_seconds()) + 1, 0)
        async with self.admin() as admin:
            moved = await admin.post("/v1/admin/clock/advance", json={"seconds": seconds})
        assert moved.status_code == 200, moved.text

    async def publish(self, topic: str, event: Any) -> None:
        await self.producer.send_and_wait(
            self.topic(topic), event.model_dump_json().encode(), key=event.aggregate_id.encode()
        )

    async def import_service(self, customer_id: str, **fields: Any) -> dict[str, Any]:
        """An active service of a customer, brought in through the operators' API."""
        body = {
            "service_id": fields.pop("service_id", f"svc-{customer_id}"),
            "customer_id": customer_id,
            "holder": {"name": "Studio Rossi", "email": "rossi@example.it", "locale": "it"},
            "username": f"{customer_id}@example.it",
            "product_id": "fe-standard",
            "expiry_date": "2027-03-31",
            "storage_gb": 1,
            **fields,
        }
        async with self.admin() as admin:
            response = await admin.post("/v1/admin/services", json=body)
        assert response.status_code == 201, response.text
        card: dict[str, Any] = response.json()
        return card

    async def settled(self, *consumed: str, replicas: Sequence[BuiltService] = ()) -> None:
        """Wait until nothing more happens at the clock as it is now: orders has consumed
        ``consumed`` topics to their end, each scheduler (of orders and its ``replicas``)
        has finished a sweep begun after this call, and no event waits in the outbox.
        What a test reads after this is all there will be."""
        for name in consumed:

            async def caught_up(name: str = name) -> bool:
                return await self._caught_up(name)

            await self.wait_until(caught_up)
        runtimes = [self.orders.runtime, *(r.runtime for r in replicas)]
        before = [sweeps(r) for r in runtimes]

        async def swept() -> bool:
            # The sweep under way may have begun before this call: the one after it has not.
            return all(sweeps(r) >= n + 2 for r, n in zip(runtimes, before, strict=True))

        await self.wait_until(swept)
        db = self.orders.runtime.db

        async def outbox_empty() -> bool:
            for name in ("services", "orders"):
                if await db[name].find_one({PENDING: True}, {"_id": 1}) is not None:
                    return False
            return True

        await self.wait_until(outbox_empty)

    async def _caught_up(self, topic: str) -> bool:
        """Orders' consumer group has committed the end offset of every partition."""
        bootstrap = self.infra.kafka_bootstrap_servers
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
        await admin.start()
        await consumer.start()
        try:
            committed = await admin.list_consumer_group_offsets(self.orders.runtime.group_id)
            name = self.topic(topic)
            [described] = await admin.describe_topics([name])
            partitions = [TopicPartition(name, p["partition"]) for p in described["partitions"]]
            ends = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
            await admin.close()
        return bool(partitions) and all(
            end == 0 or (tp in committed and committed[tp].offset >= end)
            for tp, end in ends.items()
        )

    async def events(
        self, topic: str, reader: Callable[..., Awaitable[list[Any]]], at_least: int
    ) -> list[dict[str, Any]]:
        """The events on one of this stack's topics, as a plain consumer reads them."""
        records = await reader(
            self.infra.kafka_bootstrap_servers, self.topic(topic), at_least=at_least
        )
        return [json.loads(r.value) for r in records]


@pytest.fixture
async def stack(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    wait_until: Callable[..., Awaitable[None]],
) -> AsyncIterator[Stack]:
    clock = ShiftedClock()
    catalog = build_catalog(CatalogSettings(infra=infra, database=database_name("catalog")))
    orders = build_orders(
        OrdersSettings(
            infra=infra,
            database=database_name("orders"),
            scheduler_interval_seconds=0.2,
        ),
        clock=clock,
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    async with catalog.runtime.running(), orders.runtime.running():
        await producer.start()
        s = Stack(infra, catalog, orders, clock, producer, wait_until)
        try:
            async with s.customer("probe") as probe:

                async def replicated() -> bool:
                    return len((await probe.get("/v1/catalog/products")).json()) == 3

                await wait_until(replicated)
            yield s
        finally:
            await producer.stop()
