"""What orders knows of the catalog (its replica), for customers choosing what to buy."""

from fastapi import APIRouter

from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.orders.adapters.catalog_replica import ProductReplica


def catalog_router(products: ProductReplica) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["catalog replica"])

    @router.get("/catalog/products", summary="Products as this service knows them")
    async def list_products() -> list[ProductSnapshot]:
        return await products.all()

    return router
