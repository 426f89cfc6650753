"""The first real flow: catalog publishes its seed through the outbox; orders keeps a replica."""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.catalog.bootstrap import CatalogSettings
from rinnovo.catalog.bootstrap import build as build_catalog
from rinnovo.orders.bootstrap import OrdersSettings
from rinnovo.orders.bootstrap import build as build_orders
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.settings import InfraSettings

pytestmark = pytest.mark.integration


async def test_orders_replica_matches_the_catalog(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    topic_reader: Callable[..., Awaitable[list[Any]]],
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    catalog = build_catalog(CatalogSettings(infra=infra, database=database_name("catalog")))
    orders = build_orders(OrdersSettings(infra=infra, database=database_name("orders")))
    seed = read_seed()
    async with catalog.runtime.running(), orders.runtime.running():
        token = issue_token(AuthSettings(), "c1", {"customer"})
        http = AsyncClient(
            transport=ASGITransport(orders.app),
            base_url="http://orders",
            headers={"Authorization": f"Bearer {token}"},
        )

        async def replica_complete() -> bool:
            response = await http.get("/v1/catalog/products")
            return len(response.json()) == len(seed.products)

        await wait_until(replica_complete)
        replica = (await http.get("/v1/catalog/products")).json()
        catalog_http = AsyncClient(transport=ASGITransport(catalog.app), base_url="http://c")
        published = (await catalog_http.get("/v1/products")).json()
        assert sorted(replica, key=lambda p: p["product_id"]) == sorted(
            published, key=lambda p: p["product_id"]
        )
        assert {p["product_id"] for p in replica} == {p.product_id for p in seed.products}

    # Starting the catalog again re-applies the same seed: nothing new is published.
    again = build_catalog(CatalogSettings(infra=infra, database=database_name("catalog")))
    async with again.runtime.running():
        pass
    topic = infra.kafka_topic_prefix + "catalog.product.v1"
    records = await topic_reader(infra.kafka_bootstrap_servers, topic, at_least=len(seed.products))
    assert len(records) == len(seed.products)
    assert {r.key.decode() for r in records} == {p.product_id for p in seed.products}
