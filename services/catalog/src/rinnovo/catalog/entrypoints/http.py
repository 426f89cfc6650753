"""Public read of the current catalog."""

from fastapi import APIRouter

from rinnovo.catalog.adapters.snapshots import SnapshotStore
from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.runtime.problems import Problem


def public_router(products: SnapshotStore[ProductSnapshot]) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["catalog"])

    @router.get("/products", summary="Every product on sale, with prices and policies")
    async def list_products() -> list[ProductSnapshot]:
        return [p for p in await products.all() if p.active]

    @router.get(
        "/products/{product_id}",
        summary="One product",
        responses={404: {"description": "No such product"}},
    )
    async def get_product(product_id: str) -> ProductSnapshot:
        stored = await products.get(product_id)
        if stored is None:
            raise Problem(404, "Product not found", f"no product {product_id!r}")
        return stored.snapshot

    return router
