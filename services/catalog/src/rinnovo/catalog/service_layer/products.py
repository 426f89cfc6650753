"""Operators' changes of products: created, revised, their policy, their next prices."""

from rinnovo.catalog.domain import products as rules
from rinnovo.catalog.domain.audit import Entry
from rinnovo.catalog.domain.drafts import NewPriceVersion, PolicyDraft, ProductChanges, ProductDraft
from rinnovo.catalog.service_layer.entries import Catalog, change, create
from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.runtime.changes import Stored

Product = Stored[Entry[ProductSnapshot]]


async def create_product(catalog: Catalog, draft: ProductDraft, by: str) -> Product:
    return await create(catalog.products, rules.create_product(draft), catalog.who(by))


async def revise_product(
    catalog: Catalog,
    product_id: str,
    changes: ProductChanges,
    by: str,
    expected_version: int | None = None,
) -> Product:
    def decide(current: ProductSnapshot) -> ProductSnapshot:
        return rules.revise_product(current, changes, catalog.today())

    who = catalog.who(by)
    return await change(
        catalog.products, product_id, decide, who, "product revised", expected_version
    )


async def set_policy(
    catalog: Catalog,
    product_id: str,
    policy: PolicyDraft,
    by: str,
    expected_version: int | None = None,
) -> Product:
    def decide(current: ProductSnapshot) -> ProductSnapshot:
        return rules.set_policy(current, policy)

    who = catalog.who(by)
    return await change(catalog.products, product_id, decide, who, "policy set", expected_version)


async def add_price_version(
    catalog: Catalog,
    product_id: str,
    new: NewPriceVersion,
    by: str,
    expected_version: int | None = None,
) -> Product:
    def decide(current: ProductSnapshot) -> ProductSnapshot:
        return rules.add_price_version(current, new, catalog.today())

    who = catalog.who(by)
    return await change(
        catalog.products, product_id, decide, who, "price version added", expected_version
    )
