"""Who changed what, and when: kept with each product and code."""

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

S = TypeVar("S", bound=BaseModel)

AUDIT_LIMIT = 1000
"""Audit entries kept per product or code, newest last. Catalog changes are rare operator
actions, so this is the whole history in practice while bounding the document's size."""


@dataclass(frozen=True)
class Who:
    by: str
    """The authenticated subject (an operator), or ``seed`` for the seed file."""
    at: datetime


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    by: str
    action: str
    version: int
    """Version of the product or code after the change."""
    fields: tuple[str, ...]
    """Top-level fields whose value changed."""


def changed_fields(before: BaseModel | None, after: BaseModel) -> tuple[str, ...]:
    new = after.model_dump(mode="json")
    if before is None:
        return tuple(sorted(new))
    old = before.model_dump(mode="json")
    return tuple(sorted(k for k in new.keys() | old.keys() if new.get(k) != old.get(k)))


@dataclass(frozen=True)
class Entry(Generic[S]):
    """A product or a convention code under management: its current snapshot, who changed
    it last and when, the hash of the seed entry last applied, and its audit trail."""

    snapshot: S
    changed_by: str
    changed_at: datetime | None
    seed_hash: str | None = None
    audit: tuple[AuditEntry, ...] = ()


def recorded(
    current: Entry[S] | None,
    snapshot: S,
    who: Who,
    action: str,
    version: int,
    seed_hash: str | None = None,
) -> Entry[S]:
    """The entry with ``snapshot`` (a change to ``version``), audited. An equal snapshot
    changes nothing but the seed hash: no audit entry, the last change stays the last."""
    if current is not None and current.snapshot == snapshot:
        return Entry(
            snapshot,
            current.changed_by,
            current.changed_at,
            seed_hash or current.seed_hash,
            current.audit,
        )
    before = current.snapshot if current else None
    entry = AuditEntry(
        at=who.at,
        by=who.by,
        action=action,
        version=version,
        fields=changed_fields(before, snapshot),
    )
    audit = (*(current.audit if current else ()), entry)[-AUDIT_LIMIT:]
    kept_hash = seed_hash or (current.seed_hash if current else None)
    return Entry(snapshot, who.by, who.at, kept_hash, audit)
