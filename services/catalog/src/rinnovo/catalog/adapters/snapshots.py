"""Products and convention codes in MongoDB, each change with its snapshot event."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from rinnovo.contracts import Event
from rinnovo.runtime import aggregates
from rinnovo.runtime.events import new_event

S = TypeVar("S", bound=BaseModel)

PRODUCER = "catalog"


def content_hash(snapshot: BaseModel) -> str:
    canonical = json.dumps(snapshot.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Stored(Generic[S]):
    snapshot: S
    version: int
    seed_hash: str | None


class SnapshotStore(Generic[S]):
    """One collection of snapshots keyed by id; every change emits the whole new snapshot."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        model: type[S],
        event: type[Event],
        id_field: str,
    ) -> None:
        self.collection = collection
        self._model = model
        self._event = event
        self._id_field = id_field

    async def get(self, id_: str) -> Stored[S] | None:
        doc = await self.collection.find_one(
            {"_id": id_}, {"snapshot": 1, "version": 1, "seed_hash": 1}
        )
        if doc is None:
            return None
        return Stored(
            self._model.model_validate(doc["snapshot"]), doc["version"], doc.get("seed_hash")
        )

    async def all(self) -> list[S]:
        cursor = self.collection.find({}, {"snapshot": 1}).sort("_id")
        return [self._model.model_validate(doc["snapshot"]) async for doc in cursor]

    async def save(
        self,
        snapshot: S,
        *,
        actor: str,
        at: datetime,
        correlation_id: str | None = None,
        from_seed: bool = False,
    ) -> bool:
        """Store a new snapshot and its event; False when nothing changed.

        A seed entry is applied only when the seed itself changed since it was last applied,
        so restarting never undoes what an administrator changed.
        """
        id_: str = getattr(snapshot, self._id_field)
        seed_hash = content_hash(snapshot) if from_seed else None
        while True:
            current = await self.get(id_)
            if current is not None:
                if from_seed and current.seed_hash == seed_hash:
                    return False
                if current.snapshot == snapshot and not from_seed:
                    return False
            version = current.version if current else 0
            state: dict[str, Any] = {
                "snapshot": snapshot.model_dump(mode="json"),
                "changed_by": actor,
                "changed_at": at,
            }
            if from_seed:
                state["seed_hash"] = seed_hash
            events = []
            if current is None or current.snapshot != snapshot:
                events.append(
                    new_event(
                        self._event,
                        payload=snapshot,
                        producer=PRODUCER,
                        aggregate_id=id_,
                        aggregate_version=version + 1,
                        occurred_at=at,
                        correlation_id=correlation_id,
                    )
                )
            change = aggregates.Change(state=state, events=events)
            try:
                if current is None:
                    await aggregates.insert(self.collection, id_, change)
                else:
                    await aggregates.update(self.collection, id_, version, change)
            except aggregates.VersionConflict:
                continue
            return bool(events)
