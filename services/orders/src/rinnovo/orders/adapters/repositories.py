"""MongoDB stores of the orders service: its aggregates (laid out as ``layout`` says, written
through the runtime's ``MongoAggregates``), order numbers and idempotency keys."""

from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from rinnovo.orders.adapters import layout
from rinnovo.orders.domain.carts import Cart
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.service_layer.ports import IdempotencyRecord
from rinnovo.runtime.mongo_aggregates import MongoAggregates

Collection = AsyncCollection[dict[str, Any]]


@dataclass(frozen=True)
class Stores:
    services: MongoAggregates[Subscription]
    orders: MongoAggregates[Order]
    carts: MongoAggregates[Cart]

    async def ensure_indexes(self) -> None:
        await self.services.ensure_indexes()
        await self.services.collection.create_index([("customer_id", ASCENDING)])
        await self.orders.ensure_indexes()
        await self.orders.collection.create_index(
            [("customer_id", ASCENDING), ("placed_at", DESCENDING)]
        )
        await self.orders.collection.create_index([("subscription_id", ASCENDING)])
        await self.carts.collection.create_index([("customer_id", ASCENDING)])


def stores(db: AsyncDatabase[dict[str, Any]]) -> Stores:
    return Stores(
        services=MongoAggregates(
            db["services"], layout.SERVICE_CODEC, schedule=layout.SERVICE_SCHEDULE
        ),
        orders=MongoAggregates(
            db["orders"],
            layout.ORDER_CODEC,
            schedule=layout.ORDER_SCHEDULE,
            unique=layout.ORDER_UNIQUE,
        ),
        carts=MongoAggregates(db["carts"], layout.CART_CODEC),
    )


class OrderNumbers:
    """Human-readable order numbers, ``RN-<year>-<sequence>``, unique and never reused."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def next(self, year: int) -> str:
        doc = await self.collection.find_one_and_update(
            {"_id": f"orders-{year}"},
            {"$inc": {"last": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        return f"RN-{year}-{doc['last']:06d}"


class IdempotencyKeys:
    """``Idempotency-Key`` of checkouts: the same key always names the same order."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def claim(self, key_id: str, record: IdempotencyRecord) -> IdempotencyRecord:
        """Record the key with this request, or return what an earlier request recorded."""
        try:
            await self.collection.insert_one({"_id": key_id, **vars(record)})
            return record
        except DuplicateKeyError:
            doc = await self.collection.find_one({"_id": key_id})
            assert doc is not None
            return IdempotencyRecord(
                doc["request_hash"], doc["order_id"], doc.get("customer_id", "")
            )
