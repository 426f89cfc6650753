"""How each orders aggregate is kept in its document, whatever store keeps it: its state
under ``state``, top-level copies of the fields queries and indexes need, the instant its
scheduled work falls due, and the fields no two aggregates may share."""

from typing import Any

from rinnovo.orders.domain.carts import Cart
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.runtime.changes import Schedule
from rinnovo.runtime.documents import StateCodec


def _service_fields(service: Subscription) -> dict[str, Any]:
    return {"customer_id": service.customer_id}


def _order_fields(order: Order) -> dict[str, Any]:
    return {
        "customer_id": order.customer_id,
        "subscription_id": order.subscription_id,
        "placed_at": order.placed_at,
        "open_slot": order.open_slot,
    }


def _cart_fields(cart: Cart) -> dict[str, Any]:
    return {"customer_id": cart.customer_id}


SERVICE_CODEC = StateCodec(Subscription, _service_fields)
SERVICE_SCHEDULE: Schedule[Subscription] = Schedule(lambda s: s.next_due_at)
"""Its next milestone (reminder, automatic renewal, expiry, window warning, deactivation)."""

ORDER_CODEC = StateCodec(Order, _order_fields)
ORDER_SCHEDULE: Schedule[Order] = Schedule(lambda o: o.cancel_unpaid_at)
"""Unpaid at the end of its payment due day, an order is cancelled."""
ORDER_UNIQUE = ("open_slot",)
"""At most one renewal or reactivation awaiting payment per service."""

CART_CODEC = StateCodec(Cart, _cart_fields)
