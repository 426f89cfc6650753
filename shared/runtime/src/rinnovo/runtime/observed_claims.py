"""Scheduled work as operators see it: how late each piece is taken, and how often another
replica took it first.

``ObservedClaims`` wraps a store (``changes.Aggregates``) and passes every call through;
on a claim it records the lateness (the clock's now minus the due instant stored with the
aggregate) and, when a claim by id is refused, whether the work was still due, i.e. held by
another replica's claim (one read, on refusals only), rather than no longer due (work moved
or done meanwhile).
"""

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from rinnovo.runtime.changes import Aggregates, Stored, Write
from rinnovo.runtime.metrics import Metrics

T = TypeVar("T")


class ObservedClaims(Generic[T]):
    def __init__(self, store: Aggregates[T], metrics: Metrics, work: str) -> None:
        self.store = store
        self.schedule = store.schedule
        self._late = metrics.scheduler_lateness.labels(work=work)
        self._lost = metrics.claims_lost.labels(work=work)

    async def load(self, ids: Sequence[str]) -> dict[str, Stored[T]]:
        return await self.store.load(ids)

    async def find(
        self,
        where: Mapping[str, Any],
        *,
        sort: Sequence[tuple[str, int]] = (),
        limit: int = 0,
    ) -> list[Stored[T]]:
        return await self.store.find(where, sort=sort, limit=limit)

    async def write(self, writes: Sequence[Write[T]]) -> list[Stored[T] | None]:
        return await self.store.write(writes)

    async def due(
        self, now: datetime, limit: int, where: Mapping[str, Any] | None = None
    ) -> list[str]:
        return await self.store.due(now, limit, where)

    async def claim(
        self, id_: str, now: datetime, lease: timedelta, **options: Any
    ) -> Stored[T] | None:
        claimed = await self.store.claim(id_, now, lease, **options)
        if claimed is not None:
            self._observe(claimed, now)
            return claimed
        current = (await self.store.load([id_])).get(id_)
        if current is not None and current.due_at is not None and current.due_at <= now:
            self._lost.inc()  # still due, so claimed by someone else
        return None

    async def claim_all(
        self, ids: Sequence[str], now: datetime, lease: timedelta
    ) -> list[Stored[T]]:
        claimed = await self.store.claim_all(ids, now, lease)
        for stored in claimed:
            self._observe(stored, now)
        taken = {stored.id for stored in claimed}
        if refused := [id_ for id_ in ids if id_ not in taken]:
            for current in (await self.store.load(refused)).values():
                if current.due_at is not None and current.due_at <= now:
                    self._lost.inc()  # still due, so claimed by someone else
        return claimed

    async def claim_next(self, now: datetime, lease: timedelta, **options: Any) -> Stored[T] | None:
        claimed = await self.store.claim_next(now, lease, **options)
        if claimed is not None:
            self._observe(claimed, now)
        return claimed

    def _observe(self, claimed: Stored[T], now: datetime) -> None:
        if claimed.due_at is not None:
            self._late.observe(max((now - claimed.due_at).total_seconds(), 0.0))
