"""The schema registry path, on a real registry (Apicurio Registry, built and started by
``rinnovo.devstack.registry``) and the real Kafka broker.

A service registers its events' schemas at start, with compatibility ``FULL_TRANSITIVE``, and
stamps each record with the id of its schema; a plain consumer fetches that schema by id and
validates the record with it. The registry's own check refuses each breaking edit CI
refuses; it refuses an optional addition too (see ``test_the_registry_is_stricter_than_ci``).
"""

import asyncio
import copy
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest

from rinnovo.catalog.bootstrap import CatalogSettings, build
from rinnovo.contracts.catalog import ProductSnapshotPublished
from rinnovo.contracts.orders import OrderPaid, OrderPlaced
from rinnovo.devstack.registry import RegistryServer
from rinnovo.orders.bootstrap import OrdersSettings
from rinnovo.orders.bootstrap import build as build_orders
from rinnovo.runtime.registry import (
    SCHEMA_ID_HEADER,
    SchemaRefused,
    SchemaRegistry,
    register_events,
    subject,
)
from rinnovo.runtime.schemas import event_schema
from rinnovo.runtime.settings import InfraSettings

# Starting the registry takes a while on a busy machine; the first test waits for it.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

Schema = dict[str, Any]


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with RegistryServer(tmp_path_factory.mktemp("registry")) as server:
        yield server.url


@pytest.fixture
async def registry(registry_url: str) -> Any:
    client = SchemaRegistry(registry_url)
    yield client
    await client.close()


async def test_a_consumer_validates_each_event_with_the_schema_its_header_names(
    infra: InfraSettings,
    registry_url: str,
    registry: SchemaRegistry,
    database_name: Callable[[str], str],
    topic_reader: Any,
) -> None:
    with_registry = infra.model_copy(update={"schema_registry_url": registry_url})
    catalog = build(CatalogSettings(infra=with_registry, database=database_name("catalog")))
    async with catalog.runtime.running():
        records = await topic_reader(
            infra.kafka_bootstrap_servers,
            infra.kafka_topic_prefix + "catalog.product.v1",
            at_least=1,
        )
    name = subject("catalog.product.v1", "catalog.product.snapshot", infra.kafka_topic_prefix)
    assert await registry.compatibility(name) == "FULL_TRANSITIVE"
    for record in records:
        headers = {key: value.decode() for key, value in record.headers}
        schema = await registry.schema(int(headers[SCHEMA_ID_HEADER]))
        assert schema == json.loads(json.dumps(event_schema(ProductSnapshotPublished)))
        jsonschema.Draft202012Validator(schema).validate(json.loads(record.value))


async def test_without_a_registry_records_carry_no_schema_id(
    infra: InfraSettings, database_name: Callable[[str], str], topic_reader: Any
) -> None:
    catalog = build(CatalogSettings(infra=infra, database=database_name("catalog")))
    async with catalog.runtime.running():
        records = await topic_reader(
            infra.kafka_bootstrap_servers,
            infra.kafka_topic_prefix + "catalog.product.v1",
            at_least=1,
        )
    assert all(SCHEMA_ID_HEADER not in dict(r.headers) for r in records)


async def test_services_starting_together_all_register(registry_url: str) -> None:
    """Like ``make run``: every producer registers at once (Apicurio's in-memory store fails
    some of these requests with a 500; they are asked again)."""
    from rinnovo.contracts import TOPICS

    prefix = f"t{uuid.uuid4().hex[:8]}."
    by_producer: dict[str, list[Any]] = {}
    for spec in TOPICS.values():
        by_producer.setdefault(spec.producer, []).append(spec)
    registered = await asyncio.gather(
        *(register_events(registry_url, specs, prefix) for specs in by_producer.values())
    )
    ids = {t: i for schema_ids in registered for t, i in schema_ids.ids.items()}
    assert set(ids) == {e.event_type() for s in TOPICS.values() for e in s.events}
    assert len(set(ids.values())) == len(ids)


def paid_payload(schema: Schema) -> Schema:
    payload: Schema = schema["$defs"]["OrderPaidPayload"]
    return payload


def total_as_text(schema: Schema) -> None:
    paid_payload(schema)["properties"]["total_cents"] = {"type": "string"}


def paid_at_optional(schema: Schema) -> None:
    payload = paid_payload(schema)
    payload["required"].remove("paid_at")
    payload["properties"]["paid_at"] = {
        "anyOf": [{"format": "date-time", "type": "string"}, {"type": "null"}],
        "default": None,
    }


def payment_id_removed(schema: Schema) -> None:
    payload = paid_payload(schema)
    payload["required"].remove("payment_id")
    del payload["properties"]["payment_id"]


def kind_value_renamed(schema: Schema) -> None:
    kinds = schema["$defs"]["OrderKind"]["enum"]
    kinds[kinds.index("automatic_renewal")] = "auto_renewal"


def locale_narrowed(schema: Schema) -> None:
    schema["$defs"]["Holder"]["properties"]["locale"]["enum"] = ["it", "en"]


def receipt_added(schema: Schema) -> None:
    paid_payload(schema)["properties"]["receipt_url"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }


def edited(change: Callable[[Schema], None]) -> Schema:
    schema = copy.deepcopy(event_schema(OrderPaid))
    change(schema)
    return schema


@pytest.mark.parametrize(
    "change",
    [total_as_text, paid_at_optional, payment_id_removed, kind_value_renamed, locale_narrowed],
)
async def test_the_registry_refuses_each_breaking_edit(
    registry: SchemaRegistry, change: Callable[[Schema], None]
) -> None:
    name = f"t{uuid.uuid4().hex[:8]}.orders.order.v1-orders.order.paid"
    await registry.register(name, event_schema(OrderPaid))
    assert not await registry.compatible(name, edited(change))
    with pytest.raises(SchemaRefused, match=name):
        await registry.register(name, edited(change))


async def test_the_registry_is_stricter_than_ci(registry: SchemaRegistry) -> None:
    """An optional addition, which CI accepts (consumers ignore unknown fields, producers
    write no undeclared ones), is refused under FULL_TRANSITIVE: to the registry an open
    object may already carry any property. It goes through where the subject is relaxed to
    FORWARD_TRANSITIVE for that deployment (docs/contracts.md)."""
    name = f"t{uuid.uuid4().hex[:8]}.orders.order.v1-orders.order.paid"
    await registry.register(name, event_schema(OrderPaid))
    assert not await registry.compatible(name, edited(receipt_added))
    await registry.set_compatibility(name, "FORWARD_TRANSITIVE")
    assert await registry.compatible(name, edited(receipt_added))
    assert not await registry.compatible(name, edited(paid_at_optional))


async def test_a_service_whose_schema_is_refused_does_not_start(
    infra: InfraSettings,
    registry_url: str,
    registry: SchemaRegistry,
    database_name: Callable[[str], str],
) -> None:
    name = subject("orders.order.v1", "orders.order.placed", infra.kafka_topic_prefix)
    narrower = event_schema(OrderPlaced)
    narrower["$defs"]["Holder"]["properties"]["locale"]["enum"] = ["it"]
    await registry.register(name, narrower)  # what an earlier deployment registered
    with_registry = infra.model_copy(update={"schema_registry_url": registry_url})
    orders = build_orders(OrdersSettings(infra=with_registry, database=database_name("orders")))
    with pytest.raises(SchemaRefused, match=name):
        async with orders.runtime.running():
            pytest.fail("the service started")
