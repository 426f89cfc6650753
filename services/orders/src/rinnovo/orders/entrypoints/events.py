"""The orders service's subscribers: each takes the events it acts on and calls a use case."""

from rinnovo.contracts import Event
from rinnovo.contracts.panel import UsageReported
from rinnovo.contracts.payments import PaymentRegistered
from rinnovo.orders.service_layer import catalog_replica, payments, usage
from rinnovo.orders.service_layer.context import Context
from rinnovo.runtime.kafka import EventHandler


def on_catalog_event(ctx: Context) -> EventHandler:
    async def handle(event: Event) -> None:
        await catalog_replica.keep_snapshot(ctx, event)

    return handle


def on_payment_event(ctx: Context) -> EventHandler:
    async def handle(event: Event) -> None:
        if isinstance(event, PaymentRegistered):
            await payments.register_payment(ctx, event)

    return handle


def on_usage_event(ctx: Context) -> EventHandler:
    async def handle(event: Event) -> None:
        if isinstance(event, UsageReported):
            await usage.record_usage(ctx, event)

    return handle
