"""MongoDB repositories: notifications (with their outbox), webhook endpoints, known orders.

A notification is one document keyed by its deterministic id: inserting it twice fails, which
is what makes a redelivered event harmless. Its later changes are version-guarded writes that
carry their events (``rinnovo.runtime.aggregates``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from rinnovo.contracts import Event
from rinnovo.notifier.adapters.sealed_secrets import SecretBox
from rinnovo.notifier.domain.delivery import Status
from rinnovo.notifier.domain.endpoints import ALL, Endpoint
from rinnovo.notifier.domain.messages import KnownOrder
from rinnovo.notifier.domain.notifications import Attempt, Audience, Notification, Target
from rinnovo.runtime import aggregates, tracing

Collection = AsyncCollection[dict[str, Any]]

NEXT_ATTEMPT = "next_attempt_at"
CLAIMED_UNTIL = "claimed_until"
NEVER_CLAIMED = datetime(1970, 1, 1, tzinfo=UTC)


def _attempt_doc(a: Attempt) -> dict[str, Any]:
    return {
        "number": a.number,
        "at": a.at,
        "outcome": a.outcome,
        "detail": a.detail,
        "status_code": a.status_code,
    }


def _progress(n: Notification) -> dict[str, Any]:
    """The fields that change with each attempt."""
    return {
        "status": n.status.value,
        "attempts": n.attempts,
        NEXT_ATTEMPT: n.next_attempt_at,
        "sent_at": n.sent_at,
        "failed_at": n.failed_at,
        "last_error": n.last_error,
        "history": [_attempt_doc(a) for a in n.history],
    }


def to_document(n: Notification) -> dict[str, Any]:
    return {
        "channel": n.channel,
        "template": n.template,
        "audience": n.audience.value,
        "customer_id": n.customer_id,
        "locale": n.locale,
        "requested_locale": n.requested_locale,
        "target": {"key": n.target.key, "address": n.target.address},
        "recipient_name": n.recipient_name,
        "cause": {
            "event_id": n.cause_event_id,
            "type": n.cause_type,
            "aggregate_id": n.cause_aggregate_id,
            "occurred_at": n.cause_occurred_at,
            "correlation_id": n.correlation_id,
        },
        "facts": dict(n.facts),
        "content": dict(n.content),
        "created_at": n.created_at,
        CLAIMED_UNTIL: NEVER_CLAIMED,
        **_progress(n),
    }


def from_document(doc: dict[str, Any]) -> Notification:
    cause = doc["cause"]
    audience = Audience(doc["audience"])
    return Notification(
        notification_id=doc["_id"],
        channel=doc["channel"],
        template=doc["template"],
        audience=audience,
        customer_id=doc["customer_id"],
        locale=doc["locale"],
        requested_locale=doc["requested_locale"],
        target=Target(doc["target"]["key"], doc["target"]["address"], audience),
        recipient_name=doc["recipient_name"],
        cause_event_id=cause["event_id"],
        cause_type=cause["type"],
        cause_aggregate_id=cause["aggregate_id"],
        cause_occurred_at=cause["occurred_at"],
        correlation_id=cause["correlation_id"],
        facts=doc["facts"],
        content=doc["content"],
        created_at=doc["created_at"],
        status=Status(doc["status"]),
        attempts=doc["attempts"],
        next_attempt_at=doc.get(NEXT_ATTEMPT),
        sent_at=doc.get("sent_at"),
        failed_at=doc.get("failed_at"),
        last_error=doc.get("last_error"),
        history=tuple(
            Attempt(h["number"], h["at"], h["outcome"], h.get("detail", ""), h.get("status_code"))
            for h in doc.get("history", ())
        ),
    )


@dataclass(frozen=True)
class Claimed:
    notification: Notification
    version: int
    trace: Mapping[str, str] | None = None
    """The trace context it was stored in: its delivery continues that trace."""


@dataclass(frozen=True)
class Search:
    """What operators filter notifications by; ``None`` means any."""

    customer_id: str | None = None
    status: str | None = None
    channel: str | None = None
    template: str | None = None
    cause_event_id: str | None = None
    endpoint_id: str | None = None
    audience: str | None = None
    before: datetime | None = None
    limit: int = 50


class Notifications:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([(NEXT_ATTEMPT, ASCENDING)])
        await self.collection.create_index([("customer_id", ASCENDING), ("created_at", DESCENDING)])
        await self.collection.create_index([("cause.event_id", ASCENDING)])

    async def exists(self, notification_id: str) -> bool:
        return await self.collection.count_documents({"_id": notification_id}, limit=1) > 0

    async def add(self, notification: Notification) -> bool:
        """Store a new notification; False when one with its id exists (a redelivery)."""
        change = aggregates.Change(to_document(notification))
        try:
            await aggregates.insert(self.collection, notification.notification_id, change)
        except aggregates.VersionConflict:
            return False
        return True

    async def claim_due(self, channel: str, now: datetime, lease: timedelta) -> Claimed | None:
        """Take the pending notification due soonest for one attempt, counted now.

        The claim bumps the version, so if the lease ran out and another replica claimed it
        again, the first one's outcome write fails instead of overwriting the second's.
        """
        doc = await self.collection.find_one_and_update(
            {
                "channel": channel,
                "status": Status.PENDING.value,
                NEXT_ATTEMPT: {"$lte": now},
                CLAIMED_UNTIL: {"$lte": now},
            },
            {"$set": {CLAIMED_UNTIL: now + lease}, "$inc": {"attempts": 1, aggregates.VERSION: 1}},
            sort=[(NEXT_ATTEMPT, ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            return None
        return Claimed(from_document(doc), doc[aggregates.VERSION], doc.get(tracing.TRACE))

    async def record(
        self, claimed: Claimed, after: Notification, events: Sequence[Event] = ()
    ) -> None:
        """The outcome of a claimed attempt and its events, in one write; releases the claim.

        Raises ``VersionConflict`` when the claim was lost to another replica meanwhile."""
        state = {**_progress(after), CLAIMED_UNTIL: NEVER_CLAIMED}
        change = aggregates.Change(state, events)
        await aggregates.update(self.collection, after.notification_id, claimed.version, change)

    async def get(self, notification_id: str) -> Notification | None:
        doc = await self.collection.find_one({"_id": notification_id})
        return None if doc is None else from_document(doc)

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
            self.collection.find(query)
            .sort([("created_at", DESCENDING), ("_id", ASCENDING)])
            .limit(search.limit)
        )
        return [from_document(doc) async for doc in cursor]


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
