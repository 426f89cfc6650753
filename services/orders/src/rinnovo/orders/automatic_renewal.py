"""The order an automatic renewal charges, placed by the scheduler at the lead time."""

import uuid
from datetime import datetime

import structlog

from rinnovo.orders import integration_events as events
from rinnovo.orders.adapters.repositories import OpenRenewalExists
from rinnovo.orders.domain.orders import Order, OrderStatus
from rinnovo.orders.domain.pricing import OrderKind, QuoteRefused, QuoteRequest, quote
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.handlers import ORDER_IDS, OrdersApp
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.clock import rome_date

log = structlog.get_logger(__name__)


async def place_automatic_renewal(app: OrdersApp, service: Subscription, now: datetime) -> None:
    """The order an automatic renewal charges, priced from the catalog replica; one per
    term, whatever retries or replicas do (its id comes from the service and term)."""
    assert service.expiry_date is not None
    auto = service.auto_renewal
    order_id = str(uuid.uuid5(ORDER_IDS, f"auto:{service.subscription_id}:{service.expiry_date}"))
    if await app.orders.get(order_id) is not None:
        return
    product = await app.product(service.product_id)
    term = (
        auto.term_years
        if auto.term_years in product.allowed_terms_years
        else min(product.allowed_terms_years)
    )
    try:
        q = quote(
            product,
            QuoteRequest(
                kind=OrderKind.AUTOMATIC_RENEWAL,
                wanted=service.components,
                term_years=term,
                today=rome_date(now),
                current=service.components,
            ),
        )
    except QuoteRefused as refused:
        log.error(
            "automatic renewal cannot be priced",
            service=service.subscription_id,
            reason=str(refused),
        )
        return
    order = Order(
        order_id=order_id,
        number=await app.numbers.next(rome_date(now).year),
        customer_id=service.customer_id,
        subscription_id=service.subscription_id,
        kind=OrderKind.AUTOMATIC_RENEWAL,
        status=OrderStatus.AWAITING_PAYMENT,
        placed_at=now,
        payment_due=service.expiry_date,
        payment_method=auto.payment_method or "card",
        quote=q,
        catalog_product_version=await app.product_version(product.product_id),
        acceptances=(),
        automatic_renewal=auto,
    )
    placed = events.order_placed(order, service, product.name, 1, now)
    try:
        await app.orders.add(order_id, order, [placed])
    except OpenRenewalExists:
        log.info(
            "automatic renewal skipped: a renewal is already awaiting payment",
            service=service.subscription_id,
        )
    except VersionConflict:
        pass  # placed by another replica a moment ago
