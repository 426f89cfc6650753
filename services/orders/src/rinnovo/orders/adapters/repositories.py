"""MongoDB repositories of the orders service.

Every aggregate lives in one document: its state under ``state``, a few top-level copies
for indexes, the version guard, the outbox and the inbox (see ``rinnovo.runtime.aggregates``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.contracts import Event
from rinnovo.orders.adapters.agenda import Agenda
from rinnovo.orders.domain.carts import Cart
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.runtime import aggregates
from rinnovo.runtime.documents import from_document, to_document

T = TypeVar("T")
Collection = AsyncCollection[dict[str, Any]]


@dataclass(frozen=True)
class Versioned(Generic[T]):
    value: T
    version: int
    inbox: tuple[str, ...] = ()
    due_at: datetime | None = None
    """The stored ``next_due_at``, already noted in the agenda."""


NEXT_DUE = "next_due_at"
CLAIMED_UNTIL = "claimed_until"
NEVER_CLAIMED = datetime(1970, 1, 1, tzinfo=UTC)


def scheduled(next_due_at: datetime | None) -> dict[str, Any]:
    """The fields the scheduler finds work by; written with every change of the aggregate."""
    return {NEXT_DUE: next_due_at, CLAIMED_UNTIL: NEVER_CLAIMED}


class OpenRenewalExists(Exception):
    """The service already has a renewal or reactivation order awaiting payment."""


class _Repository(Generic[T]):
    model: type[T]

    def __init__(self, collection: Collection, agenda: Agenda | None = None) -> None:
        self.collection = collection
        self.agenda = agenda

    def _indexed(self, value: T) -> dict[str, Any]:
        return {}

    def _state(self, value: T, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"state": to_document(value), **self._indexed(value), **(extra or {})}

    def _load(self, doc: dict[str, Any]) -> Versioned[T]:
        due_at = doc.get(NEXT_DUE)
        return Versioned(
            from_document(self.model, doc["state"]),
            doc["version"],
            tuple(doc.get(aggregates.INBOX, ())),
            None if due_at is None else due_at.replace(tzinfo=UTC),
        )

    async def _note_due(self, id_: str, state: dict[str, Any], noted: datetime | None) -> None:
        """Note a new due time in the agenda before the write that stores it, so a stored
        ``next_due_at`` is always in the agenda (a failed write leaves a harmless note)."""
        due_at = state.get(NEXT_DUE)
        if self.agenda is not None and due_at is not None and due_at != noted:
            await self.agenda.note(id_, due_at)

    async def get(self, id_: str) -> Versioned[T] | None:
        doc = await self.collection.find_one({"_id": id_})
        return None if doc is None else self._load(doc)

    async def add(
        self,
        id_: str,
        value: T,
        events: Sequence[Event] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        state = self._state(value, extra)
        await self._note_due(id_, state, None)
        await aggregates.insert(self.collection, id_, aggregates.Change(state, events))

    async def save(
        self,
        id_: str,
        value: T,
        expected_version: int,
        events: Sequence[Event] = (),
        caused_by: str | None = None,
        extra: dict[str, Any] | None = None,
        noted_due: datetime | None = None,
    ) -> int:
        """``noted_due``: the stored due time (``Versioned.due_at``), to skip noting it again."""
        state = self._state(value, extra)
        await self._note_due(id_, state, noted_due)
        change = aggregates.Change(state, events, caused_by)
        return await aggregates.update(self.collection, id_, expected_version, change)

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Ids of aggregates due at ``now`` and not claimed, soonest first: one query a
        sweep, on the ``next_due_at`` index."""
        cursor = self.collection.find(
            {NEXT_DUE: {"$lte": now}, CLAIMED_UNTIL: {"$lte": now}},
            {"_id": 1},
            sort=[(NEXT_DUE, ASCENDING)],
            limit=limit,
        )
        return [str(doc["_id"]) async for doc in cursor]

    async def claim(self, id_: str, now: datetime, lease: timedelta) -> bool:
        """Claim one due aggregate for a while, atomically, so other replicas skip it; its
        next write (which also sets the next due instant) releases the claim."""
        doc = await self.collection.find_one_and_update(
            {"_id": id_, NEXT_DUE: {"$lte": now}, CLAIMED_UNTIL: {"$lte": now}},
            {"$set": {CLAIMED_UNTIL: now + lease}},
        )
        return doc is not None

    async def ensure_schedule_index(self) -> None:
        await self.collection.create_index([(NEXT_DUE, ASCENDING)])


class Subscriptions(_Repository[Subscription]):
    model = Subscription

    async def ensure_indexes(self) -> None:
        await self.ensure_schedule_index()
        await self.collection.create_index([("customer_id", ASCENDING)])

    def _indexed(self, value: Subscription) -> dict[str, Any]:
        return {"customer_id": value.customer_id}

    async def of_customer(self, customer_id: str) -> list[Versioned[Subscription]]:
        cursor = self.collection.find({"customer_id": customer_id}).sort("_id")
        return [self._load(doc) async for doc in cursor]


class Orders(_Repository[Order]):
    model = Order

    async def ensure_indexes(self) -> None:
        await self.ensure_schedule_index()
        await self.collection.create_index([("open_slot", ASCENDING)], unique=True)
        await self.collection.create_index([("customer_id", ASCENDING), ("placed_at", DESCENDING)])
        await self.collection.create_index([("subscription_id", ASCENDING)])

    def _indexed(self, value: Order) -> dict[str, Any]:
        return {
            "customer_id": value.customer_id,
            "subscription_id": value.subscription_id,
            "placed_at": value.placed_at,
            "open_slot": value.open_slot,
            **scheduled(value.cancel_unpaid_at),
        }

    async def add(
        self,
        id_: str,
        value: Order,
        events: Sequence[Event] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        try:
            await super().add(id_, value, events, extra)
        except aggregates.VersionConflict:
            if await self.collection.find_one({"_id": id_}, {"_id": 1}) is None:
                raise OpenRenewalExists(value.subscription_id) from None
            raise

    async def of_customer(
        self, customer_id: str, subscription_id: str | None = None
    ) -> list[Versioned[Order]]:
        query: dict[str, Any] = {"customer_id": customer_id}
        if subscription_id:
            query["subscription_id"] = subscription_id
        cursor = self.collection.find(query).sort([("placed_at", DESCENDING), ("_id", ASCENDING)])
        return [self._load(doc) async for doc in cursor]

    async def open_renewal_of(self, subscription_id: str) -> Versioned[Order] | None:
        doc = await self.collection.find_one({"open_slot": f"{subscription_id}:renewal"})
        return None if doc is None else self._load(doc)


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


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    order_id: str


class IdempotencyKeys:
    """``Idempotency-Key`` of checkouts: the same key always names the same order."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def claim(
        self, customer_id: str, key: str, record: IdempotencyRecord
    ) -> IdempotencyRecord:
        """Record the key with this request, or return what an earlier request recorded."""
        id_ = f"{customer_id}:{key}"
        try:
            await self.collection.insert_one(
                {"_id": id_, "request_hash": record.request_hash, "order_id": record.order_id}
            )
            return record
        except DuplicateKeyError:
            doc = await self.collection.find_one({"_id": id_})
            assert doc is not None
            return IdempotencyRecord(doc["request_hash"], doc["order_id"])


class Carts(_Repository[Cart]):
    model = Cart

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("customer_id", ASCENDING)])

    def _indexed(self, value: Cart) -> dict[str, Any]:
        return {"customer_id": value.customer_id}
