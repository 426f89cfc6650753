"""Public read of the current catalog, and of the prices any past quote used."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from rinnovo.catalog.adapters.snapshots import Listing
from rinnovo.catalog.domain.rules import price_version_on
from rinnovo.catalog.service_layer.entries import Catalog
from rinnovo.contracts.catalog import PriceVersion, ProductSnapshot
from rinnovo.runtime.bounds import Day
from rinnovo.runtime.problems import Problem

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such product or price"}}


def public_router(catalog: Catalog, listing: Listing[ProductSnapshot]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["catalog"])

    async def product(product_id: str) -> ProductSnapshot:
        stored = await catalog.products.changes.get(product_id)
        if stored is None:
            raise Problem(404, "Product not found", f"no product {product_id!r}")
        return stored.value.snapshot

    @router.get("/products", summary="Every product on sale, with prices and policies")
    async def list_products() -> list[ProductSnapshot]:
        return [p.value.snapshot for p in await listing.all() if p.value.snapshot.active]

    @router.get("/products/{product_id}", summary="One product", responses=NOT_FOUND)
    async def get_product(product_id: str) -> ProductSnapshot:
        return await product(product_id)

    @router.get(
        "/products/{product_id}/price",
        summary="The price version in effect on a day (today by default)",
        description="Explains a quote made on that day: versions never change once in effect.",
        responses=NOT_FOUND,
    )
    async def price_on(
        product_id: str,
        on: Annotated[Day | None, Query(description="A Europe/Rome date, YYYY-MM-DD.")] = None,
    ) -> PriceVersion:
        day = on or catalog.today()
        version = price_version_on(await product(product_id), day)
        if version is None:
            raise Problem(404, "No price", f"{product_id} has no price on {day}")
        return version

    @router.get(
        "/products/{product_id}/price-versions/{version}",
        summary="One price version, as a quote names it",
        responses=NOT_FOUND,
    )
    async def price_version(
        product_id: str, version: Annotated[int, Path(ge=1, le=1_000_000)]
    ) -> PriceVersion:
        for candidate in (await product(product_id)).price_versions:
            if candidate.version == version:
                return candidate
        raise Problem(404, "No price", f"{product_id} has no price version {version}")

    return router
