"""Products and convention codes in MongoDB, each change with its snapshot event and audit.

One document per product or code holds the current snapshot, its version, who changed it
last and when, the audit trail, and the outbox. A change is one version-guarded
``update_one`` (``runtime.aggregates``), so the state, its event and its audit entry are
stored together or not at all.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo.asynchronous.collection import AsyncCollection

from rinnovo.catalog.domain.audit import AuditEntry, Who, changed_fields
from rinnovo.contracts import Event
from rinnovo.runtime import aggregates
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.events import new_event

S = TypeVar("S", bound=BaseModel)

PRODUCER = "catalog"
AUDIT_LIMIT = 1000
"""Audit entries kept per product or code, newest last. Catalog changes are rare operator
actions, so this is the whole history in practice while bounding the document's size."""

_FIELDS = {"snapshot": 1, "version": 1, "seed_hash": 1, "changed_by": 1, "changed_at": 1}

__all__ = ["SnapshotStore", "Stored", "VersionConflict", "content_hash"]


def content_hash(snapshot: BaseModel) -> str:
    canonical = json.dumps(snapshot.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Stored(Generic[S]):
    snapshot: S
    version: int
    changed_by: str
    changed_at: datetime | None
    seed_hash: str | None
    audit: tuple[AuditEntry, ...] | None
    """Every change, oldest first; ``None`` when not loaded (``all`` leaves it out)."""


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
        self.id_field = id_field

    def id_of(self, snapshot: S) -> str:
        id_: str = getattr(snapshot, self.id_field)
        return id_

    async def get(self, id_: str) -> Stored[S] | None:
        doc = await self.collection.find_one({"_id": id_}, {**_FIELDS, "audit": 1})
        return None if doc is None else self._stored(doc, with_audit=True)

    async def all(self) -> list[Stored[S]]:
        cursor = self.collection.find({}, _FIELDS).sort("_id")
        return [self._stored(doc, with_audit=False) async for doc in cursor]

    async def ids(self) -> list[str]:
        return [doc["_id"] async for doc in self.collection.find({}, {"_id": 1})]

    def _stored(self, doc: dict[str, Any], *, with_audit: bool) -> Stored[S]:
        audit = (
            tuple(AuditEntry.model_validate(e) for e in doc.get("audit", ()))
            if with_audit
            else None
        )
        return Stored(
            snapshot=self._model.model_validate(doc["snapshot"]),
            version=doc["version"],
            changed_by=doc.get("changed_by", ""),
            changed_at=doc.get("changed_at"),
            seed_hash=doc.get("seed_hash"),
            audit=audit,
        )

    async def write(
        self,
        current: Stored[S] | None,
        snapshot: S,
        who: Who,
        action: str,
        *,
        seed_hash: str | None = None,
        correlation_id: str | None = None,
    ) -> Stored[S]:
        """Store ``snapshot`` over ``current`` (``None``: a new one) as read by the caller.

        Raises ``VersionConflict`` when the document changed since it was read, or when a
        new one already exists. A snapshot equal to the current one emits no event and adds
        no audit entry (only a new seed hash is recorded).
        """
        id_ = self.id_of(snapshot)
        version = current.version if current else 0
        changed = current is None or current.snapshot != snapshot
        if current is not None and current.audit is None:
            raise ValueError("read with get() before writing: the audit trail is carried over")
        audit = list(current.audit or ()) if current else []
        events = []
        if changed:
            entry = AuditEntry(
                at=who.at,
                by=who.by,
                action=action,
                version=version + 1,
                fields=changed_fields(current.snapshot if current else None, snapshot),
            )
            audit = [*audit, entry][-AUDIT_LIMIT:]
            events.append(
                new_event(
                    self._event,
                    payload=snapshot,
                    producer=PRODUCER,
                    aggregate_id=id_,
                    aggregate_version=version + 1,
                    occurred_at=who.at,
                    correlation_id=correlation_id,
                )
            )
        state: dict[str, Any] = {
            "snapshot": snapshot.model_dump(mode="json"),
            "audit": [e.model_dump(mode="python") for e in audit],
        }
        if current is not None and not changed:
            by, at = current.changed_by, current.changed_at  # only a new seed hash
        else:
            by, at = who.by, who.at
        state |= {"changed_by": by, "changed_at": at}
        if seed_hash is not None:
            state["seed_hash"] = seed_hash
        change = aggregates.Change(state=state, events=events)
        if current is None:
            new_version = await aggregates.insert(self.collection, id_, change)
        else:
            new_version = await aggregates.update(self.collection, id_, version, change)
        return Stored(
            snapshot=snapshot,
            version=new_version,
            changed_by=by,
            changed_at=at,
            seed_hash=seed_hash or (current.seed_hash if current else None),
            audit=tuple(audit),
        )
