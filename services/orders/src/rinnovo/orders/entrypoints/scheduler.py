"""Scheduled work: service milestones and the unpaid-order timeout.

Every write of a service or an order sets its ``next_due_at`` and first notes it in the
agenda (``adapters/agenda.py``). A sweep reads the agenda's pages since the last sweep, by
``_id``, so it costs what falls due, not what is stored. The full query on ``next_due_at``
runs at start, after the clock jumps (time travel, a long downtime) and every
``full_sweep_seconds``: it finds whatever the notes missed (a replica that died holding a
claim, a note written onto a page already left behind), so nothing due is ever lost.

Each due aggregate is claimed by id with ``find_one_and_update`` (other replicas skip it
while the claim lasts) and then changed by the same version-guarded write as any other
change, which also carries its events: even if a claim expired and two replicas raced, only
one write, and so one event, would win.
"""

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import structlog

from rinnovo.orders.adapters.agenda import MINUTE, Agenda, minute_of
from rinnovo.orders.service_layer import cancellation, milestones
from rinnovo.orders.service_layer.context import Context
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.sweeps import SweepLoop

log = structlog.get_logger(__name__)

Take = Callable[[Context, str, datetime, timedelta], Awaitable[bool]]

GRACE = 2 * MINUTE
"""Pages this far behind the clock are read again: a note whose write was still under way
when its page was read is found by the next sweep."""
MAX_PAGES = 60
"""Further behind than this (the clock jumped, the service was down), one full query costs
less than reading page by page."""
KEEP = 2 * MAX_PAGES * MINUTE
"""Pages are deleted once this old, when no replica can still be reading them."""


class Scheduler:
    def __init__(
        self,
        ctx: Context,
        agendas: tuple[Agenda, Agenda] | None = None,
        *,
        interval_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 1000,
        full_sweep_seconds: float = 600.0,
        metrics: Metrics | None = None,
    ) -> None:
        """``agendas``: of services and of orders; without them every sweep is the full
        query (a store with a range index needs no agenda)."""
        self.ctx = ctx
        self.agendas = agendas
        self.lease = lease
        self.batch = batch
        self.full_sweep_seconds = full_sweep_seconds
        self._loop = SweepLoop(
            self.sweep,
            name="milestones",
            interval_seconds=interval_seconds,
            batch=batch,
            metrics=metrics,
        )
        self.run = self._loop.run
        self.wake = self._loop.wake
        """Sweep now (the clock moved, in demos and tests)."""
        self._read_from: datetime | None = None
        """The first agenda page not left behind; None until a full sweep has run."""
        self._tried: dict[datetime, set[str]] = {}
        """Per page, the notes taken already (or skipped): not claimed again each sweep."""
        self._full_sweep_at = 0.0

    def written_due(self, due_at: datetime) -> None:
        """A write gave an aggregate work due at ``due_at``: if that is already, sweep now
        (an import close to expiry, automatic renewal switched on after its charge day)."""
        if due_at <= self.ctx.now():
            self.wake()

    async def sweep(self) -> int:
        """Handle what is due now, up to a batch; returns how many aggregates were handled."""
        now = self.ctx.now()
        if self._agenda_covers(now):
            return await self.sweep_agenda(now)
        return await self.sweep_all(now)

    def _agenda_covers(self, now: datetime) -> bool:
        return (
            self._read_from is not None
            and self.agendas is not None
            and time.monotonic() < self._full_sweep_at
            and minute_of(now) - self._read_from <= MAX_PAGES * MINUTE
        )

    async def _take(self, take: Take, aggregate_id: str, now: datetime) -> int:
        return int(await take(self.ctx, aggregate_id, now, self.lease))

    async def sweep_all(self, now: datetime) -> int:
        """The full query on ``next_due_at``."""
        handled = 0
        for service_id in await milestones.due_services(self.ctx, now, self.batch):
            handled += await self._take(milestones.take_service, service_id, now)
        for order_id in await cancellation.due_orders(self.ctx, now, self.batch - handled):
            handled += await self._take(cancellation.take_unpaid, order_id, now)
        if handled < self.batch:  # all that is due at ``now`` was seen: notes take over
            self._read_from = minute_of(now) - GRACE
            self._tried.clear()
            self._full_sweep_at = time.monotonic() + self.full_sweep_seconds
        return handled

    async def sweep_agenda(self, now: datetime) -> int:
        """The agenda's pages from the first minute not left behind up to ``now``."""
        agendas, first = self.agendas, self._read_from
        assert agendas is not None and first is not None
        minutes = [first + k * MINUTE for k in range((minute_of(now) - first) // MINUTE + 1)]
        services, orders = agendas
        takes = (
            (services.kind, await services.read(minutes), milestones.take_service),
            (orders.kind, await orders.read(minutes), cancellation.take_unpaid),
        )
        handled = 0
        for minute in minutes:
            tried = self._tried.setdefault(minute, set())
            for kind, pages, take in takes:
                for note in pages[minute]:
                    # A later write in the same minute notes new work: tried again.
                    key = f"{kind}:{note.aggregate_id}:{note.due_at.isoformat()}"
                    if note.due_at > now or key in tried or handled >= self.batch:
                        continue
                    tried.add(key)
                    handled += await self._take(take, note.aggregate_id, now)
        if handled < self.batch:
            self._read_from = max(first, minute_of(now) - GRACE)
            for left in [m for m in self._tried if m < self._read_from]:
                del self._tried[left]
                for agenda in agendas:
                    await agenda.forget(left - KEEP)
        return handled
