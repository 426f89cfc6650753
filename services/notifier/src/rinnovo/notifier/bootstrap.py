"""The notifier service's composition root."""

from datetime import timedelta

from rinnovo.contracts.topics import (
    NOTIFIER_NOTIFICATION,
    ORDERS_ORDER,
    ORDERS_SERVICE,
    PAYMENTS_PAYMENT,
)
from rinnovo.notifier.adapters.repositories import Endpoints, KnownOrders, Notifications
from rinnovo.notifier.adapters.sealed_secrets import SecretBox
from rinnovo.notifier.channels.base import CHANNELS_GROUP, Channel, ChannelContext, ChannelPlugin
from rinnovo.notifier.deliverer import Deliverer
from rinnovo.notifier.domain.egress import EgressPolicy
from rinnovo.notifier.domain.locales import choose_locale
from rinnovo.notifier.entrypoints.http import admin_router, customer_router
from rinnovo.notifier.handlers import NotifierApp
from rinnovo.notifier.rendering import Renderer
from rinnovo.notifier.settings import NotifierSettings
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.plugins import BuiltService, load_plugins
from rinnovo.runtime.safety import dev_mode_only
from rinnovo.runtime.service import ServiceRuntime

NAME = "notifier"


def build(settings: NotifierSettings | None = None, clock: Clock | None = None) -> BuiltService:
    settings = settings or NotifierSettings()
    if choose_locale(settings.default_locale, "it") != settings.default_locale:
        raise ValueError(f"no templates for the default locale {settings.default_locale!r}")
    runtime = ServiceRuntime(NAME, settings, clock)  # refuses a default auth key first
    dev_mode_only(
        "RINNOVO_NOTIFIER_WEBHOOK_ALLOW_LOOPBACK",
        settings.webhook_allow_loopback,
        settings.dev_mode,
    )
    box = SecretBox.from_settings(settings.webhook_secret_keys, settings.dev_mode)
    clock = runtime.clock
    db = runtime.db
    notifications = Notifications(db["notifications"])
    endpoints = Endpoints(db["webhook_endpoints"], box)
    renderer = Renderer({"area_url": settings.customer_area_url, "brand": settings.brand})
    context = ChannelContext(settings=settings, renderer=renderer, endpoints=endpoints, clock=clock)
    plugins = load_plugins(CHANNELS_GROUP, settings.allowed_channels(), ChannelPlugin)  # type: ignore[type-abstract]
    channels: dict[str, Channel] = {name: p.build(context) for name, p in plugins.items()}
    deliverer = Deliverer(
        notifications,
        channels,
        clock,
        settings.retry_policy(),
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        poll_seconds=settings.delivery_poll_seconds,
        on_events=runtime.wake_relay,
        metrics=runtime.metrics,
    )
    app = NotifierApp(
        notifications=notifications,
        orders=KnownOrders(db["known_orders"]),
        endpoints=endpoints,
        channels=channels,
        clock=clock,
        default_locale=settings.default_locale,
        allow_plain_http=settings.webhook_allow_plain_http,
        on_stored=deliverer.wake,
    )
    runtime.produces(NOTIFIER_NOTIFICATION)
    runtime.with_outbox(notifications.collection)
    for spec in (ORDERS_ORDER, ORDERS_SERVICE, PAYMENTS_PAYMENT):
        runtime.subscribe(spec, app.on_event)
    for loop in deliverer.loops():
        runtime.in_background(loop)
    runtime.on_clock_moved(deliverer.wake)

    async def indexes() -> None:
        await notifications.ensure_indexes()
        await endpoints.ensure_indexes()

    runtime.on_startup(indexes)
    http = runtime.http_app(
        [
            customer_router(app, runtime.auth),
            admin_router(app, runtime.auth, EgressPolicy(settings.webhook_allow_loopback)),
        ],
        title="Rinnovo notifier",
        description="Customers' e-mails and integrators' webhooks: history and endpoints.",
    )
    return BuiltService(app=http, runtime=runtime, host=settings.http_host, port=settings.http_port)


class NotifierService:
    name = NAME
    description = "E-mails to customers and signed webhooks to integrators, each sent once."

    def build(self) -> BuiltService:
        return build()


service = NotifierService()
