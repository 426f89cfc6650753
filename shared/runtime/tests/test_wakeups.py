"""A background loop woken in the moment it is stopped still stops (``runtime.wakeups``)."""

import asyncio
import contextlib

from rinnovo.runtime.service import stop_all
from rinnovo.runtime.sweeps import SweepLoop
from rinnovo.runtime.wakeups import woken_or_timed_out


async def cancelled_as_woken(wait: "asyncio.Task[None]", event: asyncio.Event) -> bool:
    """Set ``event`` and cancel ``wait`` in the same step; whether the task ends cancelled."""
    await asyncio.sleep(0.01)  # it is waiting now
    event.set()
    wait.cancel()
    done, _ = await asyncio.wait({wait}, timeout=2)
    if wait not in done:  # ran on: stop it for good
        wait.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await wait
        return False
    return wait.cancelled()


async def test_a_wait_cancelled_as_its_event_is_set_ends_cancelled() -> None:
    event = asyncio.Event()
    assert await cancelled_as_woken(asyncio.create_task(woken_or_timed_out(event, 60)), event)


async def test_asyncio_wait_for_would_lose_that_cancellation() -> None:
    """Why the helper exists: on this Python, ``wait_for`` returns as if woken."""
    event = asyncio.Event()

    async def with_wait_for() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), 60)

    assert not (await cancelled_as_woken(asyncio.create_task(with_wait_for()), event))


async def test_a_sweep_loop_woken_as_it_is_stopped_stops() -> None:
    swept = asyncio.Event()

    async def sweep() -> int:
        swept.set()
        return 0

    loop = SweepLoop(sweep, name="test", interval_seconds=60, batch=10)
    running = asyncio.create_task(loop.run())
    await swept.wait()
    await asyncio.sleep(0.01)  # asleep until woken
    loop.wake()
    running.cancel()
    done, _ = await asyncio.wait({running}, timeout=2)
    assert running in done and running.cancelled()


async def test_a_loop_that_swallows_its_cancellation_is_cancelled_again() -> None:
    cancellations = 0

    async def stubborn() -> None:
        nonlocal cancellations
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations > 1:
                    raise  # the second is kept

    task = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    async with asyncio.timeout(5):
        await stop_all([task], patience=0.05)
    assert task.cancelled() and cancellations == 2
