"""The seed catalog, applied at start: idempotent, and never undoing an operator's change."""

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

from rinnovo.catalog.adapters.snapshots import content_hash
from rinnovo.catalog.domain import codes as code_rules
from rinnovo.catalog.domain import products as product_rules
from rinnovo.catalog.domain.audit import Entry, Who
from rinnovo.catalog.domain.catalog import Catalog as Seed
from rinnovo.catalog.domain.errors import Rejected
from rinnovo.catalog.service_layer.entries import Catalog, Kind, entry_change
from rinnovo.runtime.changes import Decision, Stored

S = TypeVar("S", bound=BaseModel)

SEED_ACTOR = "seed"


class SeedConflict(RuntimeError):
    """The seed file contradicts what is stored (e.g. it rewrites a price version)."""


async def load_seed(catalog: Catalog, seed: Seed) -> int:
    """Apply the seed catalog; returns how many snapshots were published.

    An entry is applied only when the seed itself changed since it was last applied, so
    restarting never undoes what an administrator changed, and price history is only ever
    extended (``domain.products.merge_seed``).
    """
    who = catalog.who(SEED_ACTOR)
    today = catalog.today()
    published = 0
    known = {p.product_id for p in seed.products} | set(await catalog.products.ids())
    for draft in seed.products:
        published += await _seed_one(
            catalog.products,
            draft.published(),
            who,
            lambda stored, new: product_rules.merge_seed(stored, new, today),
        )
    for code in seed.convention_codes:
        published += await _seed_one(
            catalog.codes,
            code.published(),
            who,
            lambda stored, new: code_rules.merge_seed(stored, new, known),
        )
    return published


async def _seed_one(kind: Kind[S], seed: S, who: Who, merge: Callable[[S, S], S]) -> bool:
    """True when the entry's snapshot was published (new or changed)."""
    seed_hash = content_hash(seed)
    id_ = kind.id_of(seed)
    current = await kind.changes.get(id_)
    if current is None:
        decision = entry_change(kind, None, seed, who, "seeded", seed_hash)
        if await kind.changes.create(id_, decision.value, decision.events) is not None:
            return True
        current = None  # created meanwhile by another replica: merge into it

    def decide(stored: Stored[Entry[S]]) -> Decision[Entry[S]] | None:
        if stored.value.seed_hash == seed_hash:
            return None
        try:
            snapshot = merge(stored.value.snapshot, seed)
        except Rejected as exc:
            raise SeedConflict(f"seed entry {id_!r}: {exc}") from exc
        return entry_change(kind, stored, snapshot, who, "seeded", seed_hash)

    changed = await kind.changes.change(id_, decide, read=current)
    return bool(changed.events)
