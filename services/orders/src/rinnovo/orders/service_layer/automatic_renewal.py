"""Automatic renewal: switched by the customer; its order placed by the scheduler at the lead
time, priced from the catalog replica, charged by payments with the stored method."""

import uuid
from datetime import datetime

import structlog

from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.automatic_renewal import renewal_quote, switched
from rinnovo.orders.domain.orders import Order, OrderStatus
from rinnovo.orders.domain.pricing import OrderKind, QuoteRefused
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.service_layer.checkout import ORDER_IDS
from rinnovo.orders.service_layer.context import Context, refusals, service_change
from rinnovo.runtime.changes import Decision, Stored, Taken
from rinnovo.runtime.clock import rome_date

log = structlog.get_logger(__name__)


async def switch_automatic_renewal(
    ctx: Context,
    customer_id: str,
    service_id: str,
    enabled: bool,
    term_years: int | None,
    payment_method: str | None,
) -> Subscription:
    read = await ctx.own_service(customer_id, service_id)
    product = await ctx.product(read.value.product_id)
    now = ctx.now()

    def decide(stored: Stored[Subscription]) -> Decision[Subscription] | None:
        service = stored.value
        updated = switched(
            service,
            enabled=enabled,
            term_years=term_years,
            payment_method=payment_method,
            allowed_terms=product.allowed_terms_years,
            stored_methods=ctx.policies.stored_payment_methods,
        )
        if updated == service:
            return None
        event = events.service_changed(
            "automatic_renewal_switched",
            updated,
            stored.next_version,
            now,
            previous=service,
            correlation=service_id,
        )
        return service_change(updated, [event], product.policy)

    with refusals():
        return (await ctx.services.change(service_id, decide, read=read)).value


def renewal_order_id(service: Subscription) -> str:
    """One automatic-renewal order per term, whatever retries or replicas do."""
    return str(uuid.uuid5(ORDER_IDS, f"auto:{service.subscription_id}:{service.expiry_date}"))


async def place_automatic_renewal(ctx: Context, service: Subscription, now: datetime) -> None:
    """The order an automatic renewal charges, placed once per term."""
    assert service.expiry_date is not None
    order_id = renewal_order_id(service)
    if await ctx.orders.get(order_id) is not None:
        return
    product = await ctx.product(service.product_id)
    auto = service.auto_renewal
    try:
        q = renewal_quote(product, service, rome_date(now))
    except QuoteRefused as refused:
        log.error(
            "automatic renewal cannot be priced",
            service=service.subscription_id,
            reason=str(refused),
        )
        return
    order = Order(
        order_id=order_id,
        number=await ctx.numbers.next(rome_date(now).year),
        customer_id=service.customer_id,
        subscription_id=service.subscription_id,
        kind=OrderKind.AUTOMATIC_RENEWAL,
        status=OrderStatus.AWAITING_PAYMENT,
        placed_at=now,
        payment_due=service.expiry_date,
        payment_method=auto.payment_method or "card",
        quote=q,
        catalog_product_version=await ctx.products.version(product.product_id),
        acceptances=(),
        automatic_renewal=auto,
    )
    placed = events.order_placed(order, service, product.name, 1, now)
    try:
        await ctx.orders.create(order_id, order, [placed])  # None: another replica placed it
    except Taken:
        log.info(
            "automatic renewal skipped: a renewal is already awaiting payment",
            service=service.subscription_id,
        )
