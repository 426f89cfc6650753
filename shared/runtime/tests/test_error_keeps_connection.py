"""An error answer leaves a kept-alive connection usable.

A service's app served by uvicorn on a local port, as ``rinnovo run`` serves it, and one
client that keeps its connection: a request that fails inside the route (500), then a good
one, on the same connection. No database or broker is needed: the routes touch nothing.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import APIRouter, FastAPI

from rinnovo.runtime.clock import SystemClock
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings


def probe() -> APIRouter:
    router = APIRouter()

    @router.get("/fails")
    async def fails() -> dict[str, str]:
        raise RuntimeError("a bug")

    @router.get("/works")
    async def works() -> dict[str, str]:
        return {"status": "ok"}

    return router


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def local_port(response: httpx.Response) -> int | None:
    """The client's port of the connection that carried the answer; None once closed."""
    stream = response.extensions["network_stream"]
    sock: socket.socket = stream.get_extra_info("socket")
    try:
        port: int = sock.getsockname()[1]
    except OSError:
        return None
    return port


async def test_a_500_then_a_good_request_on_the_same_connection() -> None:
    app = ServiceRuntime("probe", ServiceSettings(), SystemClock()).http_app(
        [probe()], title="probe"
    )
    async with served(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        failed = await client.get("/fails")
        first = local_port(failed)
        # The server used to close the connection after it: a request already on its way
        # was reset (a pool reconnects only when it notices the close first).
        worked = await client.get("/works")
        second = local_port(worked)
    assert first is not None, "the server closed the connection after the error"
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.headers.get("connection") != "close"
    assert worked.status_code == 200, worked.text
    assert second == first, "the connection was not kept"
