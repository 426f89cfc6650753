"""The notifier service's composition root."""

from dataclasses import dataclass
from datetime import timedelta

from rinnovo.contracts.topics import (
    NOTIFIER_NOTIFICATION,
    ORDERS_ORDER,
    ORDERS_SERVICE,
    PAYMENTS_PAYMENT,
)
from rinnovo.notifier.adapters.repositories import Stores, stores
from rinnovo.notifier.adapters.sealed_secrets import SecretBox
from rinnovo.notifier.channels.base import CHANNELS_GROUP, Channel, ChannelContext, ChannelPlugin
from rinnovo.notifier.domain.egress import EgressPolicy
from rinnovo.notifier.domain.locales import choose_locale
from rinnovo.notifier.entrypoints.deliverer import Deliverer
from rinnovo.notifier.entrypoints.events import on_event
from rinnovo.notifier.entrypoints.http import admin_router, customer_router
from rinnovo.notifier.rendering import Renderer
from rinnovo.notifier.service_layer.context import Context
from rinnovo.notifier.settings import NotifierSettings
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.plugins import BuiltService, load_plugins
from rinnovo.runtime.safety import dev_mode_only
from rinnovo.runtime.service import ServiceRuntime

NAME = "notifier"


@dataclass(frozen=True)
class Composed:
    runtime: ServiceRuntime
    context: Context
    stores: Stores
    deliverer: Deliverer


def compose(settings: NotifierSettings, clock: Clock | None = None) -> Composed:
    """The use cases on their stores, the channels, the outbox and the delivery loops (not
    yet running)."""
    if choose_locale(settings.default_locale, "it") != settings.default_locale:
        raise ValueError(f"no templates for the default locale {settings.default_locale!r}")
    runtime = ServiceRuntime(NAME, settings, clock)  # refuses a default auth key first
    dev_mode_only(
        "RINNOVO_NOTIFIER_WEBHOOK_ALLOW_LOOPBACK",
        settings.webhook_allow_loopback,
        settings.dev_mode,
    )
    box = SecretBox.from_settings(settings.webhook_secret_keys, settings.dev_mode)
    kept = stores(runtime.db, box)
    renderer = Renderer({"area_url": settings.customer_area_url, "brand": settings.brand})
    channel_context = ChannelContext(
        settings=settings, renderer=renderer, endpoints=kept.endpoints, clock=runtime.clock
    )
    plugins = load_plugins(CHANNELS_GROUP, settings.allowed_channels(), ChannelPlugin)  # type: ignore[type-abstract]
    channels: dict[str, Channel] = {n: p.build(channel_context) for n, p in plugins.items()}
    context = Context(
        notifications=Changes(kept.notifications, runtime.wake_relay),
        history=kept.history,
        orders=kept.orders,
        endpoints=kept.endpoints,
        channels=channels,
        clock=runtime.clock,
        retry=settings.retry_policy(),
        default_locale=settings.default_locale,
        allow_plain_http=settings.webhook_allow_plain_http,
        egress=EgressPolicy(settings.webhook_allow_loopback),
    )
    runtime.produces(NOTIFIER_NOTIFICATION)
    runtime.with_outbox(kept.notifications.collection)
    deliverer = Deliverer(
        context,
        lease=timedelta(seconds=settings.delivery_lease_seconds),
        poll_seconds=settings.delivery_poll_seconds,
    )
    return Composed(runtime, context, kept, deliverer)


def build(settings: NotifierSettings | None = None, clock: Clock | None = None) -> BuiltService:
    settings = settings or NotifierSettings()
    composed = compose(settings, clock)
    runtime, ctx, deliverer = composed.runtime, composed.context, composed.deliverer
    for spec in (ORDERS_ORDER, ORDERS_SERVICE, PAYMENTS_PAYMENT):
        runtime.subscribe(spec, on_event(ctx, deliverer.wake))
    for loop in deliverer.loops():
        runtime.in_background(loop)
    runtime.on_clock_moved(deliverer.wake)
    runtime.on_startup(composed.stores.ensure_indexes)
    http = runtime.http_app(
        [customer_router(ctx, runtime.auth), admin_router(ctx, runtime.auth)],
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
