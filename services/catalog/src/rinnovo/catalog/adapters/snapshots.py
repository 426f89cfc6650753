"""Products and convention codes in MongoDB: one document per product or code, holding the
current snapshot, who changed it last and when, the seed hash, the audit trail and the
outbox; each change one version-guarded write through the runtime's ``MongoAggregates``."""

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from rinnovo.catalog.domain.audit import AuditEntry, Entry
from rinnovo.runtime.aggregates import VERSION
from rinnovo.runtime.changes import Stored
from rinnovo.runtime.mongo_aggregates import as_utc

S = TypeVar("S", bound=BaseModel)

LISTED = {"snapshot": 1, VERSION: 1, "seed_hash": 1, "changed_by": 1, "changed_at": 1}
"""What a listing reads: not the audit trails."""


def content_hash(snapshot: BaseModel) -> str:
    canonical = json.dumps(snapshot.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


class EntryCodec(Generic[S]):
    """An ``Entry`` to and from its document's top-level fields."""

    def __init__(self, model: type[S]) -> None:
        self.model = model

    def encode(self, entry: Entry[S]) -> dict[str, Any]:
        return {
            "snapshot": entry.snapshot.model_dump(mode="json"),
            "audit": [e.model_dump(mode="python") for e in entry.audit],
            "changed_by": entry.changed_by,
            "changed_at": entry.changed_at,
            "seed_hash": entry.seed_hash,
        }

    def decode(self, doc: Mapping[str, Any]) -> Entry[S]:
        return Entry(
            snapshot=self.model.model_validate(doc["snapshot"]),
            changed_by=doc.get("changed_by", ""),
            changed_at=as_utc(doc.get("changed_at")),
            seed_hash=doc.get("seed_hash"),
            audit=tuple(AuditEntry.model_validate(e) for e in doc.get("audit", ())),
        )


class Listing(Generic[S]):
    """Every product or code, without its audit trail, by id."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], codec: EntryCodec[S]):
        self.collection = collection
        self._codec = codec

    async def all(self) -> list[Stored[Entry[S]]]:
        cursor = self.collection.find({}, LISTED).sort("_id")
        return [
            Stored(str(doc["_id"]), self._codec.decode(doc), doc[VERSION], (), None)
            async for doc in cursor
        ]
