"""A new consumer rebuilds the whole catalog from the compacted topics alone."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient

from rinnovo.catalog.bootstrap import CatalogSettings, build
from rinnovo.contracts import TopicSpec
from rinnovo.contracts.topics import CATALOG_CONVENTION_CODE, CATALOG_PRODUCT
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import FixedClock
from rinnovo.runtime.settings import InfraSettings

pytestmark = pytest.mark.integration

Mongo = AsyncMongoClient[dict[str, Any]]
ADMIN = {"Authorization": f"Bearer {issue_token(AuthSettings(), 'carla', {'admin'})}"}


async def rebuild(infra: InfraSettings, spec: TopicSpec) -> dict[str, tuple[int, Any]]:
    """What any integrator would do: read the topic from the start to its current end,
    keep the latest event of each key. Returns ``{key: (aggregate_version, payload)}``."""
    topic = infra.kafka_topic_prefix + spec.name
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    replica: dict[str, tuple[int, Any]] = {}
    try:
        partitions = sorted(consumer.assignment())  # no group: every partition of the topic
        assert partitions
        ends = await consumer.end_offsets(partitions)

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    event = spec.parse(record.value)
                    key = record.key.decode()
                    assert key == event.aggregate_id
                    held = replica.get(key)
                    # One key's events share a partition, so they arrive in order.
                    assert held is None or held[0] < event.aggregate_version
                    replica[key] = (event.aggregate_version, event.payload)
    finally:
        await consumer.stop()
    return replica


async def stored(mongo: Mongo, database: str, collection: str) -> dict[str, tuple[int, Any]]:
    cursor = mongo[database][collection].find({}, {"snapshot": 1, "version": 1})
    return {doc["_id"]: (doc["version"], doc["snapshot"]) async for doc in cursor}


async def cleanup_policy(infra: InfraSettings, topic: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap_servers)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, {"cleanup.policy": None})]
        )
    finally:
        await admin.close()
    [(_, _, _, _, entries)] = response.resources
    return next(str(value) for name, value, *_ in entries if name == "cleanup.policy")


async def test_a_fresh_consumer_rebuilds_the_catalog_from_the_compacted_topics(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    mongo: Mongo,
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    clock = FixedClock(datetime(2026, 3, 10, 9, tzinfo=UTC))
    database = database_name("catalog")
    catalog = build(CatalogSettings(infra=infra, database=database), clock=clock)
    async with catalog.runtime.running():
        http = AsyncClient(transport=ASGITransport(catalog.app), base_url="http://catalog")
        product = (await http.get("/v1/products/fe-business")).json()
        body = {k: v for k, v in product.items() if k not in {"product_id", "price_versions"}}
        for name in ("Business", "Business Plus"):
            response = await http.put(
                "/v1/admin/products/fe-business", json={**body, "name": name}, headers=ADMIN
            )
            assert response.status_code == 200, response.text
        for days, cents in ((30, 6500), (60, 6900)):
            response = await http.post(
                "/v1/admin/products/fe-promo/price-versions",
                json={
                    "effective_from": (clock.now() + timedelta(days=days)).date().isoformat(),
                    "base_yearly_cents": cents,
                    "option_unit_yearly_cents": {"storage": 1000, "extra-user": 500, "nso": 1500},
                },
                headers=ADMIN,
            )
            assert response.status_code == 201, response.text
        code = {
            "code": "ESTATE26",
            "discount_kind": "percent",
            "discount_value": 2000,
            "valid_from": "2026-06-01",
            "valid_to": "2026-08-31",
            "product_ids": ["fe-promo"],
            "applies_to": "first_purchase",
        }
        assert (await http.post("/v1/admin/convention-codes", json=code, headers=ADMIN)).is_success
        revoke = "/v1/admin/convention-codes/ORDINE-COMMERCIALISTI/revoke"
        assert (await http.post(revoke, headers=ADMIN)).is_success

        async def all_published() -> bool:
            pending = 0
            for collection in ("products", "convention_codes"):
                pending += await mongo[database][collection].count_documents(
                    {"outbox_pending": True}
                )
            return pending == 0

        await wait_until(all_published)

    for spec, collection in (
        (CATALOG_PRODUCT, "products"),
        (CATALOG_CONVENTION_CODE, "convention_codes"),
    ):
        topic = infra.kafka_topic_prefix + spec.name
        assert await cleanup_policy(infra, topic) == "compact"
        replica = await rebuild(infra, spec)
        in_database = await stored(mongo, database, collection)
        assert {k: (v, p.model_dump(mode="json")) for k, (v, p) in replica.items()} == in_database

    products = await stored(mongo, database, "products")
    assert products["fe-business"][1]["name"] == "Business Plus"
    assert [v["version"] for v in products["fe-promo"][1]["price_versions"]] == [1, 2, 3]
    codes = await stored(mongo, database, "convention_codes")
    assert codes["ORDINE-COMMERCIALISTI"][1]["revoked"] is True
    assert set(codes) == {"ORDINE-COMMERCIALISTI", "ESTATE26"}
