"""Payments' own copy of the catalog's products, for their automatic-renewal retry schedule.

Kept from the compacted ``catalog.product.v1`` topic; each snapshot carries the aggregate
version, so applying one is idempotent and an out-of-date redelivery changes nothing.
"""

import contextlib
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.contracts.catalog import ProductSnapshot


class ProductReplica:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def apply(self, product_id: str, version: int, snapshot: ProductSnapshot) -> None:
        # A duplicate key means a newer or the same version is already held.
        with contextlib.suppress(DuplicateKeyError):
            await self.collection.update_one(
                {"_id": product_id, "version": {"$lt": version}},
                {"$set": {"version": version, "snapshot": snapshot.model_dump(mode="json")}},
                upsert=True,
            )

    async def get(self, product_id: str) -> ProductSnapshot | None:
        doc = await self.collection.find_one({"_id": product_id})
        return None if doc is None else ProductSnapshot.model_validate(doc["snapshot"])
