"""A background loop for scheduled work found in the database.

It sweeps at a fixed interval, at once when woken (the clock moved, new work was written),
and back to back while a sweep fills its batch. A failed sweep (the database away) is logged
and tried again at the next interval: the work stays in the database, nothing is lost.
"""

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from rinnovo.runtime.metrics import Metrics
from rinnovo.runtime.wakeups import woken_or_timed_out

log = structlog.get_logger(__name__)


class SweepLoop:
    def __init__(
        self,
        sweep: Callable[[], Awaitable[int]],
        *,
        name: str,
        interval_seconds: float,
        batch: int,
        metrics: Metrics | None = None,
    ) -> None:
        self._sweep = sweep
        self._swept = None if metrics is None else metrics.sweeps.labels(loop=name)
        self._name = name
        self.interval_seconds = interval_seconds
        self.batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            # Cleared before sweeping: a wake during the sweep (new work written meanwhile,
            # perhaps after the sweep read past it) brings the next sweep at once.
            self._wake.clear()
            try:
                done = await self._sweep()
            except Exception:
                log.warning("sweep failed; retrying", sweep=self._name, exc_info=True)
                done = 0
            if self._swept is not None:
                self._swept.inc()
            if done < self.batch:
                await woken_or_timed_out(self._wake, self.interval_seconds)
