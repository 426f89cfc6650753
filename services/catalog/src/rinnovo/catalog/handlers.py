"""Catalog use cases."""

from rinnovo.catalog.adapters.snapshots import SnapshotStore
from rinnovo.catalog.domain.catalog import Catalog
from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.runtime.clock import Clock

SEED_ACTOR = "seed"


async def load_seed(
    catalog: Catalog,
    products: SnapshotStore[ProductSnapshot],
    codes: SnapshotStore[ConventionCodeSnapshot],
    clock: Clock,
) -> int:
    """Apply the seed catalog; idempotent. Returns how many snapshots were published."""
    at = clock.now()
    published = 0
    for product in catalog.products:
        published += await products.save(product, actor=SEED_ACTOR, at=at, from_seed=True)
    for code in catalog.convention_codes:
        published += await codes.save(code, actor=SEED_ACTOR, at=at, from_seed=True)
    return published
