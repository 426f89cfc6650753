"""Scheduled work: service milestones and the unpaid-order timeout.

Every write of a service or an order sets its indexed ``next_due_at``. A sweep asks for
what is due now (``next_due_at <= now``, unclaimed, soonest first, at most a batch): an
index range, so it costs what falls due, not what is stored (on MongoDB, and on our
FerretDB since its patch 05).

Due services are claimed by id, ``together`` at a time, in one ``update`` and one ``find``
(other replicas skip them while the claim lasts), and then changed together, as a consumed
batch is: one query per store, one version-guarded bulk write per store, each write also
carrying its events. Even if a claim expired and two replicas raced, only one write, and so
one event, would win. A replica that died holding a claim leaves its work to the next sweep
after the claim runs out. Orders due for their unpaid timeout are rarer, and each is
claimed and cancelled alone (cancelling gives back a convention code's use, a write outside
the order's).
"""

from datetime import datetime, timedelta

from rinnovo.orders.service_layer import cancellation, milestones
from rinnovo.orders.service_layer.context import Context
from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.sweeps import SweepLoop


class Scheduler:
    def __init__(
        self,
        ctx: Context,
        *,
        interval_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 1000,
        together: int = 100,
        metrics: Metrics | None = None,
    ) -> None:
        self.ctx = ctx
        self.lease = lease
        self.batch = batch
        self.together = together
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

    def written_due(self, due_at: datetime) -> None:
        """A write gave an aggregate work due at ``due_at``: if that is already, sweep now
        (an import close to expiry, automatic renewal switched on after its charge day)."""
        if due_at <= self.ctx.now():
            self.wake()

    async def sweep(self) -> int:
        """Handle what is due now, up to a batch; returns how many aggregates were handled."""
        now = self.ctx.now()
        handled = 0
        due = await milestones.due_services(self.ctx, now, self.batch)
        for start in range(0, len(due), self.together):
            chunk = due[start : start + self.together]
            handled += await milestones.take_services(self.ctx, chunk, now, self.lease)
        for order_id in await cancellation.due_orders(self.ctx, now, self.batch - handled):
            handled += await cancellation.take_unpaid(self.ctx, order_id, now, self.lease)
        return handled
