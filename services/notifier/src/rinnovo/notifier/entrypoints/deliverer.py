"""The delivery loops: one per channel, sending what is due, outside the Kafka handlers.

Subscribers only store pending notifications; each loop attempts what is due on its
channel (``service_layer.delivery``), at once when woken (new notifications stored, the
clock moved), else every ``poll_seconds``. A channel that is slow or down (a webhook
endpoint timing out) never delays another.
"""

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import structlog

from rinnovo.notifier.service_layer import delivery
from rinnovo.notifier.service_layer.context import Context
from rinnovo.runtime.wakeups import woken_or_timed_out

log = structlog.get_logger(__name__)

Step = Callable[[], Coroutine[Any, Any, None]]


class Deliverer:
    def __init__(
        self, ctx: Context, *, lease: timedelta, poll_seconds: float, batch: int = 100
    ) -> None:
        self.ctx = ctx
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._wake = {name: asyncio.Event() for name in ctx.channels}

    def wake(self) -> None:
        """New notifications were stored: look now rather than at the next poll."""
        for event in self._wake.values():
            event.set()

    def loops(self) -> list[Step]:
        return [self._loop_of(name) for name in self.ctx.channels]

    def _loop_of(self, name: str) -> Step:
        async def run() -> None:
            await self.run(name)

        run.__qualname__ = f"deliver:{name}"
        return run

    async def run(self, channel: str) -> None:
        wake = self._wake[channel]
        while True:
            wake.clear()  # before the sweep: what is stored during it wakes the next one
            try:
                done = await self.deliver_due(channel)
            except Exception:
                log.warning("delivery sweep failed; retrying", channel=channel, exc_info=True)
                done = 0
            if done < self.batch:
                await woken_or_timed_out(wake, self.poll_seconds)

    async def deliver_due(self, channel: str) -> int:
        """Attempt what is due on one channel now, up to a batch; returns how many."""
        done = 0
        while done < self.batch and await delivery.deliver_next(self.ctx, channel, self.lease):
            done += 1
        return done
