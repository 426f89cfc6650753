"""The payments service's subscribers: each takes the events it acts on and calls a use
case."""

from rinnovo.contracts import Event
from rinnovo.contracts.orders import OrderCancelled, OrderPaymentRefused, OrderPlaced
from rinnovo.payments.service_layer import instructions, products, reviews
from rinnovo.payments.service_layer.context import Context
from rinnovo.runtime.kafka import EventHandler


def on_order_event(ctx: Context) -> EventHandler:
    async def handle(event: Event) -> None:
        if isinstance(event, OrderPlaced):
            await instructions.request_payment(ctx, event)
        elif isinstance(event, OrderCancelled):
            await instructions.void_payment(ctx, event)
        elif isinstance(event, OrderPaymentRefused):
            await reviews.payment_refused(ctx, event)

    return handle


def on_catalog_event(ctx: Context) -> EventHandler:
    async def handle(event: Event) -> None:
        await products.keep_product(ctx, event)

    return handle
