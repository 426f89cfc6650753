"""The services' HTTP server: uvicorn's, but an idle process wakes once a second, not ten
times, and still stops at once when told to."""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI

from rinnovo.runtime.http_server import QuietServer


def app() -> FastAPI:
    application = FastAPI()

    @application.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    return application


class CountingServer(QuietServer):
    ticks = 0

    async def on_tick(self, counter: int) -> bool:
        self.ticks += 1
        return await super().on_tick(counter)


@contextlib.asynccontextmanager
async def serving(server: uvicorn.Server) -> AsyncIterator[str]:
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


def config() -> uvicorn.Config:
    return uvicorn.Config(app(), host="127.0.0.1", port=0, lifespan="off", log_config=None)


async def test_an_idle_server_wakes_once_a_second_and_serves_with_a_date() -> None:
    server = CountingServer(config())
    async with serving(server) as url:
        ticks = server.ticks
        await asyncio.sleep(1.5)
        # uvicorn's own loop checks ten times a second: 15 or so here.
        assert server.ticks - ticks <= 3
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{url}/ping")
        assert answer.json() == {"status": "ok"}
        assert answer.headers["date"].endswith(" GMT")


async def test_a_stop_signal_stops_it_without_waiting_for_its_tick() -> None:
    server = QuietServer(config(), tick_seconds=600)
    # In a thread of its own, so that it leaves the test's signal handlers alone (in the
    # main thread it would raise the signal again once stopped).
    running = asyncio.create_task(asyncio.to_thread(server.run))
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.02)
    server.handle_exit(signal.SIGTERM, None)  # what the signal handler is given
    async with asyncio.timeout(10):  # not the 600 s of its tick
        await running
