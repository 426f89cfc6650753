"""Uses of convention codes with limits, one document per code: the orders using it, how
many, and how many for each customer. One conditional update claims a use, so concurrent
checkouts never pass a limit; the order's own entry makes a retried claim count once."""

import hashlib
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.orders.service_layer.ports import UseLimits

Collection = AsyncCollection[dict[str, Any]]


def _field(value: str) -> str:
    """A field name for an id, whatever characters it holds (``.`` and ``$`` would not do)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class CodeUses:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def claim(self, code: str, order_id: str, customer_id: str, limits: UseLimits) -> bool:
        mine, theirs = f"orders.{_field(order_id)}", f"customers.{_field(customer_id)}"
        where: dict[str, Any] = {"_id": code, mine: {"$exists": False}}
        if limits.total is not None:
            where["uses"] = {"$lt": limits.total}
        if limits.per_customer is not None:
            where[theirs] = {"$not": {"$gte": limits.per_customer}}
        update = {"$set": {mine: True}, "$inc": {"uses": 1, theirs: 1}}
        try:
            # The first use creates the document; later ones find it or match nothing.
            await self.collection.update_one(where, update, upsert=True)
            return True
        except DuplicateKeyError:
            pass  # it exists and did not match, or another first use created it just now
        if (await self.collection.update_one(where, update)).modified_count == 1:
            return True
        return await self.collection.count_documents({"_id": code, mine: True}) == 1

    async def release(self, code: str, order_id: str, customer_id: str) -> None:
        mine, theirs = f"orders.{_field(order_id)}", f"customers.{_field(customer_id)}"
        await self.collection.update_one(
            {"_id": code, mine: True},
            {"$unset": {mine: ""}, "$inc": {"uses": -1, theirs: -1}},
        )
