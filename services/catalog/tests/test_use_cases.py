"""The catalog use cases on the in-memory stores (as ``test_catalog_admin_api`` and
``test_catalog_seed`` do on the real servers): no server, a clock moved by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.catalog.adapters.snapshots import EntryCodec
from rinnovo.catalog.domain.drafts import CodeChanges, PolicyDraft, ProductChanges
from rinnovo.catalog.domain.errors import AlreadyExists, NotFound, Rejected, StaleVersion
from rinnovo.catalog.service_layer import codes, products
from rinnovo.catalog.service_layer.entries import Catalog, Kind
from rinnovo.catalog.service_layer.seed import SeedConflict, load_seed
from rinnovo.contracts.catalog import (
    ConventionCodeSnapshot,
    ConventionCodeSnapshotPublished,
    ProductSnapshot,
    ProductSnapshotPublished,
)
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import FixedClock
from rinnovo.testing.aggregates import MemoryAggregates

NOW = datetime(2026, 5, 10, 9, 0, tzinfo=UTC)
SEED = read_seed()


class Stores:
    def __init__(self) -> None:
        self.products = MemoryAggregates(EntryCodec(ProductSnapshot))
        self.codes = MemoryAggregates(EntryCodec(ConventionCodeSnapshot))
        self.wakes = 0
        self.clock = FixedClock(NOW)
        self.catalog = Catalog(
            products=Kind(
                Changes(self.products, self.wake), ProductSnapshotPublished, "product_id"
            ),
            codes=Kind(Changes(self.codes, self.wake), ConventionCodeSnapshotPublished, "code"),
            clock=self.clock,
        )

    def wake(self) -> None:
        self.wakes += 1


@pytest.fixture
async def stores() -> Stores:
    s = Stores()
    await load_seed(s.catalog, SEED)
    return s


def changes_of(product: ProductSnapshot, **edits: object) -> ProductChanges:
    body = product.model_dump(mode="json", exclude={"product_id", "price_versions"})
    return ProductChanges.model_validate({**body, **edits})


async def test_the_seed_publishes_each_entry_once_and_is_idempotent(stores: Stores) -> None:
    assert len(stores.products.events) == len(SEED.products)
    assert len(stores.codes.events) == len(SEED.convention_codes)
    assert await load_seed(stores.catalog, SEED) == 0  # a restart publishes nothing
    stored = await stores.catalog.products.changes.get("fe-standard")
    assert stored is not None and stored.value.changed_by == "seed"
    assert [e.action for e in stored.value.audit] == ["seeded"]


async def test_a_seed_never_undoes_an_operators_change(stores: Stores) -> None:
    standard = await stores.catalog.products.changes.get("fe-standard")
    assert standard is not None
    await products.revise_product(
        stores.catalog, "fe-standard", changes_of(standard.value.snapshot, name="Renamed"), "ann"
    )
    assert await load_seed(stores.catalog, SEED) == 0
    again = await stores.catalog.products.changes.get("fe-standard")
    assert again is not None and again.value.snapshot.name == "Renamed"


async def test_a_seed_that_rewrites_a_price_version_stops_the_start(stores: Stores) -> None:
    product = SEED.products[0]
    first = product.price_versions[0]
    price = first.model_copy(update={"base_yearly_cents": first.base_yearly_cents + 1})
    changed = product.model_copy(update={"price_versions": (price,)})
    rewritten = SEED.model_copy(update={"products": [changed, *SEED.products[1:]]})
    with pytest.raises(SeedConflict):
        await load_seed(stores.catalog, rewritten)


async def test_each_change_is_audited_and_published_with_its_version(stores: Stores) -> None:
    catalog = stores.catalog
    before = stores.wakes
    standard = await catalog.products.changes.get("fe-standard")
    assert standard is not None
    revised = await products.revise_product(
        catalog, "fe-standard", changes_of(standard.value.snapshot, name="FE"), "ann", 1
    )
    stores.clock.advance(timedelta(hours=2))
    policy = PolicyDraft.model_validate(
        {**standard.value.snapshot.policy.model_dump(mode="json"), "reactivation_window_days": 90}
    )
    with_policy = await products.set_policy(catalog, "fe-standard", policy, "bob")
    assert (revised.version, with_policy.version) == (2, 3)
    assert [(e.action, e.by, e.version) for e in with_policy.value.audit] == [
        ("seeded", "seed", 1),
        ("product revised", "ann", 2),
        ("policy set", "bob", 3),
    ]
    assert with_policy.value.changed_at == NOW + timedelta(hours=2)
    published = [e for e in stores.products.events if e.aggregate_id == "fe-standard"]
    assert [e.aggregate_version for e in published] == [1, 2, 3]
    assert stores.wakes == before + 2
    # The same change again changes nothing and publishes nothing.
    await products.set_policy(catalog, "fe-standard", policy, "bob")
    assert len([e for e in stores.products.events if e.aggregate_id == "fe-standard"]) == 3


async def test_if_match_refuses_a_change_made_since(stores: Stores) -> None:
    catalog = stores.catalog
    standard = await catalog.products.changes.get("fe-standard")
    assert standard is not None
    snapshot = standard.value.snapshot
    await products.revise_product(catalog, "fe-standard", changes_of(snapshot, name="A"), "a", 1)
    with pytest.raises(StaleVersion):
        await products.revise_product(
            catalog, "fe-standard", changes_of(snapshot, name="B"), "b", 1
        )
    # Without If-Match, the change is decided on the current state.
    done = await products.revise_product(
        catalog, "fe-standard", changes_of(snapshot, name="B"), "b"
    )
    assert done.value.snapshot.name == "B" and done.version == 3


async def test_unknown_existing_and_refused(stores: Stores) -> None:
    catalog = stores.catalog
    standard = await catalog.products.changes.get("fe-standard")
    assert standard is not None
    with pytest.raises(NotFound):
        await products.revise_product(catalog, "nope", changes_of(standard.value.snapshot), "ann")
    draft = SEED.products[0]
    with pytest.raises(AlreadyExists):
        await products.create_product(catalog, draft, "ann")
    code = SEED.convention_codes[0].published()
    body = code.model_dump(mode="json", exclude={"code", "revoked"})
    with pytest.raises(Rejected):
        await codes.revise_code(
            catalog, code.code, CodeChanges.model_validate({**body, "product_ids": ["nope"]}), "a"
        )
    assert len(stores.codes.events) == len(SEED.convention_codes)


async def test_a_revoked_code_is_revoked_once(stores: Stores) -> None:
    code = SEED.convention_codes[0].code
    revoked = await codes.revoke_code(stores.catalog, code, "ann")
    assert revoked.value.snapshot.revoked and revoked.version == 2
    again = await codes.revoke_code(stores.catalog, code, "bob")
    assert again.version == 2 and again.value.changed_by == "ann"
    assert len(stores.codes.events) == len(SEED.convention_codes) + 1
