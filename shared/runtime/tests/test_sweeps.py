"""The sweep loop: at its interval, and at once when woken, even while it was sweeping."""

import asyncio
import contextlib

from rinnovo.runtime.sweeps import SweepLoop


async def test_a_wake_during_a_sweep_brings_the_next_sweep_at_once() -> None:
    swept = 0
    second = asyncio.Event()

    async def sweep() -> int:
        nonlocal swept
        swept += 1
        if swept == 1:
            loop.wake()  # work written while this sweep ran, perhaps after it read past it
        else:
            second.set()
        return 0

    loop = SweepLoop(sweep, name="test", interval_seconds=3600, batch=10)
    task = asyncio.create_task(loop.run())
    try:
        async with asyncio.timeout(5):  # far less than the interval
            await second.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert swept == 2
