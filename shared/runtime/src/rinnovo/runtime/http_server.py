"""The HTTP server a service runs under: uvicorn's, waking once a second rather than ten times.

uvicorn's main loop sleeps 0.1 s between checks of its exit flag and its once-a-second
refresh of the ``Date`` header; in an idle service those ten wake-ups a second are most of
the process's CPU. This server waits on an event instead, set by the stop signal, and still
wakes once a second for the header (``Date`` has a one-second resolution).
"""

import asyncio
from types import FrameType

import uvicorn

from rinnovo.runtime.wakeups import woken_or_timed_out


class QuietServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, tick_seconds: float = 1.0) -> None:
        super().__init__(config)
        self.tick_seconds = tick_seconds
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        # Tick 0 of uvicorn's count refreshes the header (it does so every tenth tick).
        while not await self.on_tick(0):
            await woken_or_timed_out(self._stop, self.tick_seconds)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # Run by a signal handler, between two steps of the loop: wake it through its pipe.
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
