"""MongoDB: the payments service's aggregates, each in its own collection as ``layout``
lays it out, changed only through the runtime's ``Changes`` (version-guarded writes that
carry their events and inbox)."""

from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from rinnovo.payments.adapters import layout
from rinnovo.payments.adapters.catalog_replica import ProductReplica
from rinnovo.payments.domain.callbacks import ProcessedCallback
from rinnovo.payments.domain.payments import Payment
from rinnovo.payments.domain.reviews import ReviewItem
from rinnovo.payments.domain.statement_import import BankCredit, ImportRecord
from rinnovo.payments.methods.base import StoredMethod
from rinnovo.runtime.mongo_aggregates import MongoAggregates


@dataclass(frozen=True)
class Stores:
    payments: MongoAggregates[Payment]
    reviews: MongoAggregates[ReviewItem]
    bank: MongoAggregates[BankCredit]
    statements: MongoAggregates[ImportRecord]
    stored_methods: MongoAggregates[StoredMethod]
    callbacks: MongoAggregates[ProcessedCallback]
    products: ProductReplica

    async def ensure_indexes(self) -> None:
        await self.payments.ensure_indexes()
        await self.payments.collection.create_index([("order_number", ASCENDING)])
        await self.payments.collection.create_index([("customer_id", ASCENDING)])
        reviews = self.reviews.collection
        await reviews.create_index([("status", ASCENDING), ("opened_at", DESCENDING)])
        await self.stored_methods.collection.create_index([("customer_id", ASCENDING)])


def stores(db: AsyncDatabase[dict[str, Any]]) -> Stores:
    return Stores(
        payments=MongoAggregates(
            db["payments"],
            layout.PAYMENTS,
            schedule=layout.PAYMENT_SCHEDULE,
            unique=layout.PAYMENT_UNIQUE,
        ),
        reviews=MongoAggregates(db["reviews"], layout.REVIEWS),
        bank=MongoAggregates(db["bank_transactions"], layout.BANK_CREDITS),
        statements=MongoAggregates(db["statements"], layout.STATEMENTS),
        stored_methods=MongoAggregates(db["stored_methods"], layout.STORED_METHODS),
        callbacks=MongoAggregates(db["provider_callbacks"], layout.CALLBACKS),
        products=ProductReplica(db["catalog_products"]),
    )
