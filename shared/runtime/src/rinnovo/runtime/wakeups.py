"""Waiting for a wake-up, at most so long, and still stopping when cancelled.

The background loops (the outbox relay, the sweeps, the delivery loops, the HTTP server's
tick) sleep until woken or until their interval runs out. ``asyncio.wait_for`` cannot be used
for that on Python 3.11: cancelled in the moment the event it waits on is set, it returns
as if woken and the cancellation is lost (python/cpython#86296), so a loop stopped right
after a write woke it runs on for ever and its service never stops. ``asyncio.timeout``
keeps the cancellation.
"""

import asyncio
import contextlib


async def woken_or_timed_out(event: asyncio.Event, seconds: float) -> None:
    """Return once ``event`` is set or ``seconds`` have passed; raise if cancelled."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
