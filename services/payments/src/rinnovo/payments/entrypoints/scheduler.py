"""Scheduled work: automatic-renewal charges that are due, and interrupted resolutions.

Due charges are found through the indexed ``next_attempt_at`` every write of a payment sets,
so a sweep costs what is due, not what exists. Each is claimed through the runtime's
scheduled work (other replicas skip it while the claim lasts) before the provider is
called; the write of the result releases the claim. A claim that lapses (a crash) makes the
same attempt again, with the same idempotency key, so the customer is never charged twice.
"""

from datetime import timedelta

import structlog

from rinnovo.payments.methods.base import ProviderUnavailable
from rinnovo.payments.service_layer import charges, reviews
from rinnovo.payments.service_layer.context import Context
from rinnovo.runtime.sweeps import SweepLoop

log = structlog.get_logger(__name__)


class ChargeScheduler:
    def __init__(
        self,
        ctx: Context,
        *,
        interval_seconds: float = 1.0,
        lease: timedelta = timedelta(minutes=2),
        batch: int = 100,
    ) -> None:
        self.ctx = ctx
        self.lease = lease
        self.batch = batch
        self._loop = SweepLoop(
            self.sweep, name="charges", interval_seconds=interval_seconds, batch=batch
        )
        self.run = self._loop.run
        self.wake = self._loop.wake

    async def sweep(self) -> int:
        now = self.ctx.now()
        handled = 0
        while handled < self.batch:
            claimed = await self.ctx.payments.claim_next(now, self.lease)
            if claimed is None:
                break
            handled += 1
            try:
                await charges.charge_due(self.ctx, claimed)
            except ProviderUnavailable as exc:
                # Left claimed: the same attempt is made when the claim lapses.
                log.warning(
                    "provider unavailable; charge postponed", payment=claimed.id, error=str(exc)
                )
        await reviews.finish_resolutions(self.ctx, now)
        return handled
