"""Health, metrics and the page's static files; and the time each page takes.

Ready means the portal can serve: it owns no database, and a service that is down is a
notice on the pages that need it, not a reason to take the portal out of rotation.
Each answer says its own server time in ``Server-Timing`` (``app``: the whole request,
``api``: its calls to the other services, added up) and feeds a histogram.
"""

import time
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rinnovo.portal.upstream import upstream_seconds

BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def router(registry: CollectorRegistry) -> APIRouter:
    routes = APIRouter()

    @routes.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @routes.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @routes.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return routes


def mount_static(app: FastAPI) -> None:
    folder = Path(str(files("rinnovo.portal") / "static"))
    app.mount("/static", StaticFiles(directory=folder), name="static")


class Timing:
    """ASGI middleware: ``Server-Timing`` on every answer and a histogram per route."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.histogram = Histogram(
            "rinnovo_portal_request_seconds",
            "Server time of the portal's answers, by route.",
            ["route", "method"],
            buckets=BUCKETS,
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        spent = [0.0]
        upstream_seconds.set(spent)

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = time.perf_counter() - started
                header = f"app;dur={took * 1000:.1f}, api;dur={spent[0] * 1000:.1f}"
                message.setdefault("headers", []).append((b"server-timing", header.encode()))
                self.histogram.labels(_route(scope), scope["method"]).observe(took)
            await send(message)

        await self.app(scope, receive, timed)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "other"))
