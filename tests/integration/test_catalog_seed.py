"""The seed catalog at start: applied once, re-applied only when it changes, never rewriting
a price version, never undoing an administrator's change unless the seed itself changed."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient

from rinnovo.catalog.adapters.seed_file import DEFAULT_SEED
from rinnovo.catalog.bootstrap import CatalogSettings, build
from rinnovo.catalog.service_layer.seed import SeedConflict
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import FixedClock
from rinnovo.runtime.settings import InfraSettings

pytestmark = pytest.mark.integration

Mongo = AsyncMongoClient[dict[str, Any]]
ADMIN = {"Authorization": f"Bearer {issue_token(AuthSettings(), 'dario', {'admin'})}"}
CLOCK = FixedClock(datetime(2026, 3, 10, 9, tzinfo=UTC))


def seed_with(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    seed = yaml.safe_load(DEFAULT_SEED.read_text())
    change(next(p for p in seed["products"] if p["product_id"] == "fe-standard"))
    path = tmp_path / f"seed-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(seed))
    return path


async def test_a_changed_seed_keeps_the_price_history_and_a_contradicting_one_stops_the_start(
    infra: InfraSettings, database_name: Callable[[str], str], mongo: Mongo, tmp_path: Path
) -> None:
    database = database_name("catalog")

    def catalog(seed_file: Path | None = None) -> Any:
        settings = CatalogSettings(infra=infra, database=database, seed_file=seed_file)
        return build(settings, clock=CLOCK)

    first = catalog()
    async with first.runtime.running():
        http = AsyncClient(transport=ASGITransport(first.app), base_url="http://catalog")
        added = await http.post(
            "/v1/admin/products/fe-standard/price-versions",
            json={
                "effective_from": "2026-06-01",
                "base_yearly_cents": 2700,
                "option_unit_yearly_cents": {"storage": 1000, "extra-user": 500, "nso": 1500},
            },
            headers=ADMIN,
        )
        assert added.status_code == 201, added.text
    products = mongo[database]["products"]
    after_admin = await products.find_one({"_id": "fe-standard"})
    assert after_admin is not None

    # The same seed again: nothing happens.
    async with catalog().runtime.running():
        pass
    unchanged = await products.find_one({"_id": "fe-standard"})
    assert unchanged is not None and unchanged["version"] == after_admin["version"]

    # A renamed product in the seed: the name changes, the admin's version 2 stays.
    renamed = seed_with(tmp_path, lambda p: p.update(name="FE Standard"))
    async with catalog(renamed).runtime.running():
        pass
    doc = await products.find_one({"_id": "fe-standard"})
    assert doc is not None
    assert doc["snapshot"]["name"] == "FE Standard"
    assert [v["version"] for v in doc["snapshot"]["price_versions"]] == [1, 2]
    assert (doc["audit"][-1]["by"], doc["audit"][-1]["fields"]) == ("seed", ["name"])

    # A seed that rewrites a price version in effect: the start fails, nothing changes.
    def cheaper(product: dict[str, Any]) -> None:
        product["price_versions"][0]["base_yearly_cents"] = 1999

    with pytest.raises(SeedConflict, match=r"price_versions\.0"):
        async with catalog(seed_with(tmp_path, cheaper)).runtime.running():
            pass
    assert await products.find_one({"_id": "fe-standard"}) == doc
