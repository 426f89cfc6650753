"""MongoDB: notifications (with their outbox), webhook endpoints, known orders.

A notification is one document keyed by its deterministic id, kept as ``layout`` says and
changed only through the runtime's ``Changes`` (version-guarded writes that carry their
events): creating it twice stores one, which is what makes a redelivered event harmless.
"""

from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from rinnovo.notifier.adapters.layout import NOTIFICATIONS, SCHEDULE
from rinnovo.notifier.adapters.sealed_secrets import SecretBox
from rinnovo.notifier.domain.endpoints import ALL, Endpoint
from rinnovo.notifier.domain.messages import KnownOrder
from rinnovo.notifier.domain.notifications import Notification
from rinnovo.notifier.service_layer.ports import Search
from rinnovo.runtime.mongo_aggregates import WITHOUT_OUTBOX, MongoAggregates

Collection = AsyncCollection[dict[str, Any]]


class NotificationHistory:
    """The notifications operators and customers look through."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("customer_id", ASCENDING), ("created_at", DESCENDING)])
        await self.collection.create_index([("cause.event_id", ASCENDING)])

    async def search(self, search: Search) -> list[Notification]:
        query: dict[str, Any] = {}
        for field, value in (
            ("customer_id", search.customer_id),
            ("status", search.status),
            ("channel", search.channel),
            ("template", search.template),
            ("cause.event_id", search.cause_event_id),
            ("target.key", search.endpoint_id),
            ("audience", search.audience),
        ):
            if value is not None:
                query[field] = value
        if search.before is not None:
            query["created_at"] = {"$lt": search.before}
        cursor = (
            self.collection.find(query, WITHOUT_OUTBOX)
            .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
            .limit(search.limit)
        )
        return [NOTIFICATIONS.decode(doc) async for doc in cursor]


def _endpoint_document(e: Endpoint, box: SecretBox) -> dict[str, Any]:
    return {
        "_id": e.endpoint_id,
        "url": e.url,
        "secret_sealed": box.seal(e.secret),
        "events": list(e.events),
        "description": e.description,
        "active": e.active,
        "created_at": e.created_at,
    }


def _endpoint(doc: dict[str, Any], box: SecretBox) -> Endpoint:
    return Endpoint(
        endpoint_id=doc["_id"],
        url=doc["url"],
        secret=box.open(doc["secret_sealed"]),
        events=tuple(doc["events"]),
        description=doc.get("description", ""),
        active=doc["active"],
        created_at=doc["created_at"],
    )


class Endpoints:
    """Integrators' webhook endpoints. Removing one deactivates it: its deliveries stay
    explainable, and pending ones fail instead of going to a URL nobody vouches for."""

    def __init__(self, collection: Collection, box: SecretBox) -> None:
        self.collection, self.box = collection, box  # the box seals secrets at rest

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("active", ASCENDING)])

    async def add(self, endpoint: Endpoint) -> None:
        await self.collection.insert_one(_endpoint_document(endpoint, self.box))

    async def get(self, endpoint_id: str) -> Endpoint | None:
        doc = await self.collection.find_one({"_id": endpoint_id})
        return None if doc is None else _endpoint(doc, self.box)

    async def all(self) -> list[Endpoint]:
        return [_endpoint(d, self.box) async for d in self.collection.find({}).sort("created_at")]

    async def subscribed_to(self, template: str) -> list[Endpoint]:
        cursor = self.collection.find({"active": True, "events": {"$in": [template, ALL]}})
        return [_endpoint(doc, self.box) async for doc in cursor.sort("_id")]

    async def deactivate(self, endpoint_id: str) -> bool:
        result = await self.collection.update_one({"_id": endpoint_id}, {"$set": {"active": False}})
        return result.matched_count > 0


class KnownOrders:
    """What the notifier remembers of each order (from ``OrderPlaced``)."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def remember(self, order: KnownOrder) -> None:
        # The facts of a placed order never change: the first write wins, replays are no-ops.
        await self.collection.update_one(
            {"_id": order.order_id},
            {
                "$setOnInsert": {
                    "number": order.number,
                    "kind": order.kind,
                    "total_cents": order.total_cents,
                    "payment_method": order.payment_method,
                    "username": order.username,
                }
            },
            upsert=True,
        )

    async def get(self, order_id: str) -> KnownOrder | None:
        doc = await self.collection.find_one({"_id": order_id})
        if doc is None:
            return None
        return KnownOrder(
            order_id=doc["_id"],
            number=doc["number"],
            kind=doc["kind"],
            total_cents=doc["total_cents"],
            payment_method=doc["payment_method"],
            username=doc["username"],
        )


@dataclass(frozen=True)
class Stores:
    notifications: MongoAggregates[Notification]
    history: NotificationHistory
    endpoints: Endpoints
    orders: KnownOrders

    async def ensure_indexes(self) -> None:
        await self.notifications.ensure_indexes()
        await self.history.ensure_indexes()
        await self.endpoints.ensure_indexes()


def stores(db: AsyncDatabase[dict[str, Any]], box: SecretBox) -> Stores:
    """``box`` seals the endpoints' signing secrets at rest."""
    notifications = db["notifications"]
    return Stores(
        notifications=MongoAggregates(notifications, NOTIFICATIONS, schedule=SCHEDULE),
        history=NotificationHistory(notifications),
        endpoints=Endpoints(db["webhook_endpoints"], box),
        orders=KnownOrders(db["known_orders"]),
    )
