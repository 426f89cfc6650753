"""Operators' use cases: an existing service brought under management."""

from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.service_layer.context import Context, service_change
from rinnovo.runtime.errors import Conflict


async def import_service(ctx: Context, service: Subscription) -> Subscription:
    """Bring an existing service (e.g. from the system being replaced) under management."""
    product = await ctx.product_on_sale(service.product_id)
    event = events.service_changed(
        "activated", service, 1, ctx.now(), correlation=service.subscription_id
    )
    decision = service_change(service, [event], product.policy)
    created = await ctx.services.create(service.subscription_id, decision.value, decision.events)
    if created is None:
        raise Conflict(f"service {service.subscription_id} already exists")
    return created.value
