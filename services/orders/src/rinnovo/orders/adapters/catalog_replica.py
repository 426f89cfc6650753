"""The orders service's own copy of the catalog, kept from the catalog's compacted topics.

Orders never calls the catalog in the order flow. Each snapshot carries the aggregate
version, so applying one is idempotent and out-of-date redeliveries change nothing.
"""

import time
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot

S = TypeVar("S", bound=BaseModel)


class Replica(Generic[S]):
    """Snapshots by id, read through a short-lived cache.

    Catalog changes are rare and each replica of this service consumes only some partitions,
    so a process cannot rely on seeing every change itself; a few seconds of staleness is
    the price of not reading the database on every milestone and quote.
    """

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        model: type[S],
        cache_seconds: float = 5.0,
    ) -> None:
        self.collection = collection
        self._model = model
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, S | None]] = {}

    async def apply(self, id_: str, version: int, snapshot: S) -> bool:
        """Keep the snapshot if it is newer than the one held; True if it was kept."""
        try:
            result = await self.collection.update_one(
                {"_id": id_, "version": {"$lt": version}},
                {"$set": {"version": version, "snapshot": snapshot.model_dump(mode="json")}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # a newer or the same version is already held
        self._cache.pop(id_, None)
        return result.modified_count == 1 or result.upserted_id is not None

    async def get(self, id_: str) -> S | None:
        cached = self._cache.get(id_)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        doc = await self.collection.find_one({"_id": id_})
        snapshot = None if doc is None else self._model.model_validate(doc["snapshot"])
        if snapshot is not None:
            self._cache[id_] = (time.monotonic() + self._cache_seconds, snapshot)
        return snapshot

    async def version(self, id_: str) -> int:
        doc = await self.collection.find_one({"_id": id_}, {"version": 1})
        if doc is None:
            raise LookupError(f"{id_} is not in the replica")
        version: int = doc["version"]
        return version

    async def all(self) -> list[S]:
        cursor = self.collection.find({}).sort("_id")
        return [self._model.model_validate(doc["snapshot"]) async for doc in cursor]


ProductReplica = Replica[ProductSnapshot]
CodeReplica = Replica[ConventionCodeSnapshot]
