"""The portal's composition root.

The portal is deployed like every service (``rinnovo run portal``), but it owns no database
and no topic: it calls the other services' public APIs with the customer's own token. So its
``ServiceRuntime`` is built for what the runner and the contract export read (settings,
metrics registry, an empty AsyncAPI document) and is never started: nothing here connects to
Kafka or MongoDB.
"""

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

import httpx
import structlog
from fastapi import FastAPI

from rinnovo.portal import demo, errors
from rinnovo.portal.apis import Upstreams
from rinnovo.portal.csrf import Csrf
from rinnovo.portal.pages import account, carts, messages, operations, orders, services
from rinnovo.portal.rendering import Pages
from rinnovo.portal.session import SignIn
from rinnovo.portal.settings import PortalSettings
from rinnovo.portal.upstream import Upstream
from rinnovo.portal.web import Portal
from rinnovo.runtime.auth import AuthSettings
from rinnovo.runtime.plugins import BuiltService
from rinnovo.runtime.service import ServiceRuntime

NAME = "portal"
log = structlog.get_logger(__name__)


def compose(settings: PortalSettings, transport: httpx.AsyncBaseTransport | None = None) -> Portal:
    """The pieces of the portal; ``transport`` replaces the network in fast tests."""
    timeout = settings.upstream_timeout_seconds
    upstreams = Upstreams(
        orders=Upstream("orders", settings.orders_url, timeout, transport),
        payments=Upstream("payments", settings.payments_url, timeout, transport),
        notifier=Upstream("notifier", settings.notifier_url, timeout, transport),
        catalog_cache_seconds=settings.catalog_cache_seconds,
    )
    key = settings.csrf_secret.get_secret_value().encode() if settings.csrf_secret else None
    csrf = Csrf(key or secrets.token_bytes(32))
    signin = SignIn(AuthSettings(), settings.session_cookie, settings.dev_mode)
    return Portal(settings, upstreams, signin, csrf, Pages(settings, csrf))


def web_app(portal: Portal, runtime: ServiceRuntime) -> FastAPI:
    settings = portal.settings

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        seeding = None
        if settings.dev_mode and settings.demo_data:
            seeding = asyncio.create_task(demo.seed(portal.upstreams.orders, AuthSettings()))
        try:
            yield
        finally:
            if seeding is not None:
                seeding.cancel()
                await asyncio.gather(seeding, return_exceptions=True)
            await portal.upstreams.aclose()

    app = FastAPI(
        title="Rinnovo portal", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None
    )
    errors.install(app, portal)
    app.include_router(operations.router(runtime.metrics.registry))
    for pages in (account, services, carts, orders, messages):
        app.include_router(pages.router(portal))
    operations.mount_static(app)
    app.add_middleware(operations.Timing, registry=runtime.metrics.registry)
    return app


def build(
    settings: PortalSettings | None = None, transport: httpx.AsyncBaseTransport | None = None
) -> BuiltService:
    settings = settings or PortalSettings()
    runtime = ServiceRuntime(NAME, settings)
    app = web_app(compose(settings, transport), runtime)
    return BuiltService(app=app, runtime=runtime, host=settings.http_host, port=settings.http_port)


class PortalService:
    name = NAME
    description = "The customer area as web pages, over the other services' public APIs."

    def settings(self) -> PortalSettings:
        return PortalSettings()

    def build(self) -> BuiltService:
        return build(self.settings())


service = PortalService()
