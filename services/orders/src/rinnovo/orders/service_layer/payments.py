"""A payment registered by the payments service: the order is paid, then its service changes.

A payment that does not cover its order's total (nor, with what payments wrote off, make
it exactly) pays nothing: the order stays awaiting payment and payments is told
(``payment_mismatched``), which opens a review item; the service is not renewed.

Two documents and no transaction: each records the event id in its inbox in the same write,
so a redelivery after a crash between the two finishes the second only; the service also
keeps the orders it has applied, so even a replay from the start of the topic applies none
twice.
"""

import structlog

from rinnovo.contracts.payments import PaymentRegistered
from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.orders import Order, OrderStatus
from rinnovo.orders.domain.paid_orders import (
    AlreadyApplied,
    CannotApply,
    PaymentRefusal,
    RegisteredPayment,
    apply_paid_order,
    take_payment,
)
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.service_layer.context import Context, service_change
from rinnovo.runtime.changes import Decision, Stored
from rinnovo.runtime.clock import rome_date
from rinnovo.runtime.dead_letters import PoisonMessage

log = structlog.get_logger(__name__)


async def register_payment(ctx: Context, event: PaymentRegistered) -> None:
    p = event.payload
    read = await ctx.orders.get(p.order_id)
    if read is None:
        raise PoisonMessage("unknown_order", f"payment for unknown order {p.order_id}")
    service = await ctx.service(read.value.subscription_id)
    now = ctx.now()

    payment = RegisteredPayment(
        p.payment_id, p.amount_cents, p.registered_at, p.written_off_cents or 0
    )

    def decide(stored: Stored[Order]) -> Decision[Order] | None:
        order = stored.value
        taken = take_payment(order, service.value, payment)
        if taken == order:
            return None  # this payment paid it already
        version = stored.next_version
        if taken is PaymentRefusal.AMOUNT_MISMATCH:
            log.error("payment does not match its order", order=order.number)
            mismatched = events.payment_mismatched(order, payment, version, now, event)
            return Decision(order, [mismatched])
        if isinstance(taken, PaymentRefusal):
            log.warning("payment refused", order=order.number, reason=taken.value)
            refused = events.payment_refused(
                order, p.payment_id, p.amount_cents, taken, version, now, event
            )
            return Decision(order, [refused])
        return Decision(taken, [events.order_paid(taken, service.value, version, now, event)])

    order = (await ctx.orders.change(p.order_id, decide, cause=event, read=read)).value
    if order.status is OrderStatus.PAID and order.payment_id == p.payment_id:
        await _apply_to_service(ctx, order, event, service)


async def _apply_to_service(
    ctx: Context, order: Order, event: PaymentRegistered, read: Stored[Subscription]
) -> None:
    """``read``: the service as read before paying the order, tried first."""
    policy = await ctx.policy(read.value.product_id)
    paid_on = rome_date(event.payload.registered_at)
    now = ctx.now()

    def decide(stored: Stored[Subscription]) -> Decision[Subscription] | None:
        before = stored.value
        try:
            after = apply_paid_order(before, order, paid_on)
        except AlreadyApplied:
            return None
        except CannotApply as exc:
            # Paid a moment before the service became unusable: an operator decides.
            raise PoisonMessage("cannot_apply_payment", str(exc)) from exc
        emitted = events.service_changed(
            events.service_event_of(order.kind),
            after,
            stored.next_version,
            now,
            order_id=order.order_id,
            previous=before,
            cause=event,
        )
        return service_change(after, [emitted], policy)

    await ctx.services.change(order.subscription_id, decide, cause=event, read=read)
