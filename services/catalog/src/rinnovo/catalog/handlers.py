"""Catalog use cases: one method per administrator command, and loading the seed.

Each change reads the current snapshot, lets the domain decide the next one (or refuse it),
and stores it with a version guard. A concurrent change makes it read again and decide
again, unless the caller named the version it saw (``If-Match``): then it is refused.
"""

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from pydantic import BaseModel

from rinnovo.catalog.adapters.snapshots import SnapshotStore, Stored, VersionConflict, content_hash
from rinnovo.catalog.domain import codes as code_changes
from rinnovo.catalog.domain import products as product_changes
from rinnovo.catalog.domain.audit import Who
from rinnovo.catalog.domain.catalog import Catalog
from rinnovo.catalog.domain.drafts import (
    CodeChanges,
    CodeDraft,
    NewPriceVersion,
    PolicyDraft,
    ProductChanges,
    ProductDraft,
)
from rinnovo.catalog.domain.errors import AlreadyExists, NotFound, Rejected, StaleVersion
from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.runtime.clock import Clock, rome_date

S = TypeVar("S", bound=BaseModel)

SEED_ACTOR = "seed"


class SeedConflict(RuntimeError):
    """The seed file contradicts what is stored (e.g. it rewrites a price version)."""


class CatalogAdmin:
    def __init__(
        self,
        products: SnapshotStore[ProductSnapshot],
        codes: SnapshotStore[ConventionCodeSnapshot],
        clock: Clock,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.products = products
        self.codes = codes
        self._clock = clock
        self._on_change = on_change
        """Called after each stored change, so its event leaves without waiting a poll."""

    def today(self) -> date:
        return rome_date(self._clock.now())

    def _who(self, by: str) -> Who:
        return Who(by=by, at=self._clock.now())

    # Products

    async def create_product(self, draft: ProductDraft, by: str) -> Stored[ProductSnapshot]:
        product = product_changes.create_product(draft)
        return await self._create(self.products, product, by)

    async def revise_product(
        self,
        product_id: str,
        changes: ProductChanges,
        by: str,
        expected_version: int | None = None,
    ) -> Stored[ProductSnapshot]:
        def decide(current: ProductSnapshot) -> ProductSnapshot:
            return product_changes.revise_product(current, changes, self.today())

        return await self._change(
            self.products, product_id, decide, by, "product revised", expected_version
        )

    async def set_policy(
        self,
        product_id: str,
        policy: PolicyDraft,
        by: str,
        expected_version: int | None = None,
    ) -> Stored[ProductSnapshot]:
        def decide(current: ProductSnapshot) -> ProductSnapshot:
            return product_changes.set_policy(current, policy)

        return await self._change(
            self.products, product_id, decide, by, "policy set", expected_version
        )

    async def add_price_version(
        self,
        product_id: str,
        new: NewPriceVersion,
        by: str,
        expected_version: int | None = None,
    ) -> Stored[ProductSnapshot]:
        def decide(current: ProductSnapshot) -> ProductSnapshot:
            return product_changes.add_price_version(current, new, self.today())

        return await self._change(
            self.products, product_id, decide, by, "price version added", expected_version
        )

    # Convention codes

    async def create_code(self, draft: CodeDraft, by: str) -> Stored[ConventionCodeSnapshot]:
        code = code_changes.create_code(draft, await self.products.ids())
        return await self._create(self.codes, code, by)

    async def revise_code(
        self,
        code: str,
        changes: CodeChanges,
        by: str,
        expected_version: int | None = None,
    ) -> Stored[ConventionCodeSnapshot]:
        product_ids = await self.products.ids()

        def decide(current: ConventionCodeSnapshot) -> ConventionCodeSnapshot:
            return code_changes.revise_code(current, changes, product_ids)

        return await self._change(self.codes, code, decide, by, "code revised", expected_version)

    async def revoke_code(
        self, code: str, by: str, expected_version: int | None = None
    ) -> Stored[ConventionCodeSnapshot]:
        return await self._change(
            self.codes, code, code_changes.revoke_code, by, "code revoked", expected_version
        )

    # The seed

    async def load_seed(self, catalog: Catalog) -> int:
        """Apply the seed catalog; idempotent. Returns how many snapshots were published.

        An entry is applied only when the seed itself changed since it was last applied, so
        restarting never undoes what an administrator changed, and price history is only
        ever extended (``domain.products.merge_seed``).
        """
        who = self._who(SEED_ACTOR)
        published = 0
        known = {p.product_id for p in catalog.products} | set(await self.products.ids())
        for draft in catalog.products:
            published += await self._seed_one(
                self.products,
                draft.published(),
                who,
                lambda stored, seed: product_changes.merge_seed(stored, seed, self.today()),
            )
        for code in catalog.convention_codes:
            published += await self._seed_one(
                self.codes,
                code.published(),
                who,
                lambda stored, seed: code_changes.merge_seed(stored, seed, known),
            )
        return published

    async def _seed_one(
        self, store: SnapshotStore[S], seed: S, who: Who, merge: Callable[[S, S], S]
    ) -> bool:
        seed_hash = content_hash(seed)
        while True:
            current = await store.get(store.id_of(seed))
            if current is not None and current.seed_hash == seed_hash:
                return False
            try:
                snapshot = seed if current is None else merge(current.snapshot, seed)
            except Rejected as exc:
                raise SeedConflict(f"seed entry {store.id_of(seed)!r}: {exc}") from exc
            try:
                stored = await store.write(current, snapshot, who, "seeded", seed_hash=seed_hash)
            except VersionConflict:
                continue
            self._on_change()
            return current is None or stored.snapshot != current.snapshot

    # Storage with retries

    async def _create(self, store: SnapshotStore[S], snapshot: S, by: str) -> Stored[S]:
        try:
            stored = await store.write(None, snapshot, self._who(by), "created")
        except VersionConflict as exc:
            raise AlreadyExists(f"{store.id_of(snapshot)} already exists") from exc
        self._on_change()
        return stored

    async def _change(
        self,
        store: SnapshotStore[S],
        id_: str,
        decide: Callable[[S], S],
        by: str,
        action: str,
        expected_version: int | None,
    ) -> Stored[S]:
        while True:
            current = await store.get(id_)
            if current is None:
                raise NotFound(f"nothing with {store.id_field} {id_!r}")
            if expected_version is not None and current.version != expected_version:
                raise StaleVersion(f"{id_} is at version {current.version}")
            snapshot = decide(current.snapshot)
            if snapshot == current.snapshot:
                return current
            try:
                stored = await store.write(current, snapshot, self._who(by), action)
            except VersionConflict:
                if expected_version is not None:
                    raise StaleVersion(f"{id_} changed meanwhile") from None
                continue
            self._on_change()
            return stored
