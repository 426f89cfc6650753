"""MongoDB repositories of the payments service.

A payment lives in one document: its state under ``state``, top-level copies for indexes,
the version guard, the outbox and the inbox (see ``rinnovo.runtime.aggregates``).
"""

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.contracts import Event
from rinnovo.payments.domain.payments import Payment
from rinnovo.payments.domain.reviews import ReviewItem, ReviewStatus
from rinnovo.payments.domain.statements import BankEntry
from rinnovo.payments.methods.base import StoredMethod
from rinnovo.runtime import aggregates, tracing
from rinnovo.runtime.documents import from_document, to_document

Collection = AsyncCollection[dict[str, Any]]

NEXT_ATTEMPT = "next_attempt_at"
CLAIMED_UNTIL = "claimed_until"
NEVER_CLAIMED = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Versioned:
    value: Payment
    version: int
    inbox: tuple[str, ...] = ()
    trace: Mapping[str, str] | None = None
    """The trace context of its flow: money arriving later continues that trace."""


class Payments:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("order_id", ASCENDING)], unique=True)
        await self.collection.create_index([("order_number", ASCENDING)])
        await self.collection.create_index([("customer_id", ASCENDING)])
        await self.collection.create_index([(NEXT_ATTEMPT, ASCENDING)])

    def _state(self, payment: Payment) -> dict[str, Any]:
        # Every write sets the next attempt and releases any claim on it.
        return {
            "state": to_document(payment),
            "order_id": payment.order_id,
            "order_number": payment.order_number,
            "customer_id": payment.customer_id,
            "status": payment.status.value,
            NEXT_ATTEMPT: payment.next_attempt_at,
            CLAIMED_UNTIL: NEVER_CLAIMED,
        }

    def _load(self, doc: dict[str, Any]) -> Versioned:
        return Versioned(
            from_document(Payment, doc["state"]),
            doc["version"],
            tuple(doc.get(aggregates.INBOX, ())),
            doc.get(tracing.TRACE),
        )

    async def get(self, payment_id: str) -> Versioned | None:
        doc = await self.collection.find_one({"_id": payment_id})
        return None if doc is None else self._load(doc)

    async def by_order_number(self, number: str) -> Versioned | None:
        doc = await self.collection.find_one({"order_number": number})
        return None if doc is None else self._load(doc)

    async def of_customer(self, customer_id: str) -> list[Payment]:
        cursor = self.collection.find({"customer_id": customer_id}).sort("state.requested_at", -1)
        return [self._load(doc).value async for doc in cursor]

    async def add(
        self, payment: Payment, events: Sequence[Event], caused_by: str | None = None
    ) -> None:
        change = aggregates.Change(self._state(payment), events, caused_by)
        await aggregates.insert(self.collection, payment.payment_id, change)

    async def save(
        self,
        stored: Versioned,
        payment: Payment,
        events: Sequence[Event] = (),
        caused_by: str | None = None,
    ) -> int:
        change = aggregates.Change(self._state(payment), events, caused_by)
        return await aggregates.update(self.collection, payment.payment_id, stored.version, change)

    async def claim_due(self, now: datetime, lease: timedelta) -> str | None:
        """Claim the payment whose charge is due soonest, for a while, so other replicas skip
        it; its next write (which also sets the next attempt) releases the claim."""
        doc = await self.collection.find_one_and_update(
            {NEXT_ATTEMPT: {"$lte": now}, CLAIMED_UNTIL: {"$lte": now}},
            {"$set": {CLAIMED_UNTIL: now + lease}},
            sort=[(NEXT_ATTEMPT, ASCENDING)],
        )
        return None if doc is None else str(doc["_id"])


class Reviews:
    """Review items; the id names the money concerned, so opening one twice opens one."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("status", ASCENDING), ("opened_at", DESCENDING)])

    def _doc(self, item: ReviewItem) -> dict[str, Any]:
        return {
            "state": to_document(item),
            "status": item.status.value,
            "opened_at": item.opened_at,
            "applied": item.applied,
        }

    async def open(self, item: ReviewItem) -> bool:
        """True if this opened it; False if it was already there (open or resolved)."""
        try:
            await self.collection.insert_one({"_id": item.review_id, **self._doc(item)})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, review_id: str) -> ReviewItem | None:
        doc = await self.collection.find_one({"_id": review_id})
        return None if doc is None else from_document(ReviewItem, doc["state"])

    async def listed(self, status: ReviewStatus | None, limit: int = 500) -> list[ReviewItem]:
        query = {} if status is None else {"status": status.value}
        cursor = self.collection.find(query).sort([("opened_at", ASCENDING), ("_id", ASCENDING)])
        return [from_document(ReviewItem, doc["state"]) async for doc in cursor.limit(limit)]

    async def resolve(self, item: ReviewItem) -> bool:
        """Store a resolution if the item is still open; False if someone resolved it first."""
        result = await self.collection.update_one(
            {"_id": item.review_id, "status": ReviewStatus.OPEN.value}, {"$set": self._doc(item)}
        )
        return result.modified_count == 1

    async def replace(self, item: ReviewItem) -> None:
        await self.collection.update_one({"_id": item.review_id}, {"$set": self._doc(item)})

    async def unapplied(self, resolved_before: datetime) -> list[ReviewItem]:
        """Resolutions whose effect was interrupted (a crash between the two writes)."""
        cursor = self.collection.find(
            {"status": ReviewStatus.RESOLVED.value, "applied": False}
        ).limit(100)
        items = [from_document(ReviewItem, doc["state"]) async for doc in cursor]
        return [i for i in items if i.resolution and i.resolution.at < resolved_before]


class BankTransactions:
    """Every credit ever imported, by the bank's reference: what makes a re-import a no-op."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def claim(self, entry: BankEntry, statement_id: str, now: datetime) -> str | None:
        """Record the transaction; returns the outcome of an earlier import of it, if any
        (``""`` when an earlier import stopped before deciding)."""
        try:
            await self.collection.insert_one(
                {
                    "_id": entry.source,
                    "statement_id": statement_id,
                    "entry": to_document(entry),
                    "imported_at": now,
                    "outcome": "",
                }
            )
        except DuplicateKeyError:
            doc = await self.collection.find_one({"_id": entry.source}, {"outcome": 1})
            return "" if doc is None else str(doc.get("outcome", ""))
        return None

    async def decided(self, entry: BankEntry, outcome: str) -> None:
        await self.collection.update_one({"_id": entry.source}, {"$set": {"outcome": outcome}})


class Statements:
    """Each statement file imported: who, when, and what it did the first time."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def record(self, statement_id: str, summary: dict[str, Any]) -> bool:
        """True the first time this statement is recorded."""
        try:
            await self.collection.insert_one({"_id": statement_id, **summary})
        except DuplicateKeyError:
            return False
        return True


class StoredMethods:
    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        await self.collection.create_index([("customer_id", ASCENDING)])

    async def put(self, method: StoredMethod) -> None:
        await self.collection.replace_one(
            {"_id": f"{method.customer_id}:{method.method}"},
            {"customer_id": method.customer_id, "state": to_document(method)},
            upsert=True,
        )

    async def get(self, customer_id: str, method: str) -> StoredMethod | None:
        doc = await self.collection.find_one({"_id": f"{customer_id}:{method}"})
        return None if doc is None else from_document(StoredMethod, doc["state"])

    async def of_customer(self, customer_id: str) -> list[StoredMethod]:
        cursor = self.collection.find({"customer_id": customer_id}).sort("_id")
        return [from_document(StoredMethod, doc["state"]) async for doc in cursor]


class Callbacks:
    """Provider callbacks processed, by the provider's event id (a fast path for replays;
    the payment's own state is what keeps a replay from changing anything)."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    async def processed(self, callback_id: str) -> bool:
        return await self.collection.find_one({"_id": callback_id}, {"_id": 1}) is not None

    async def remember(self, callback_id: str, outcome: str, now: datetime) -> None:
        with contextlib.suppress(DuplicateKeyError):  # a concurrent delivery remembered it
            await self.collection.update_one(
                {"_id": callback_id},
                {"$setOnInsert": {"processed_at": now, "outcome": outcome}},
                upsert=True,
            )
