"""Orders cancelled: by their customer, or by the scheduler once unpaid past their due day."""

from datetime import datetime, timedelta

from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.orders import Order, OrderStatus
from rinnovo.orders.service_layer import code_uses
from rinnovo.orders.service_layer.context import Context, refusals
from rinnovo.runtime.changes import Decision, Stored
from rinnovo.runtime.errors import Invalid


async def cancel_order(ctx: Context, customer_id: str, order_id: str, confirm: bool) -> Order:
    if not confirm:
        raise Invalid("confirm", "cancelling an order needs an explicit confirmation")
    read = await ctx.own_order(customer_id, order_id)
    service = (await ctx.service(read.value.subscription_id)).value
    now = ctx.now()

    def decide(stored: Stored[Order]) -> Decision[Order]:
        cancelled = stored.value.cancel(now, "customer")  # paid meanwhile? refused
        event = events.order_cancelled(cancelled, service, stored.next_version, now, order_id)
        return Decision(cancelled, [event])

    with refusals():
        cancelled = (await ctx.orders.change(order_id, decide, read=read)).value
    await code_uses.give_back(ctx, cancelled)
    return cancelled


async def due_orders(ctx: Context, now: datetime, limit: int) -> list[str]:
    return await ctx.orders.due(now, limit)


async def take_unpaid(ctx: Context, order_id: str, now: datetime, lease: timedelta) -> bool:
    """Claim an order due for its unpaid timeout (other replicas skip it) and cancel it if
    still unpaid; False when it is not due or another replica has it."""
    claimed = await ctx.orders.claim(order_id, now, lease)
    if claimed is None:
        return False
    service = (await ctx.service(claimed.value.subscription_id)).value

    def decide(stored: Stored[Order]) -> Decision[Order]:
        order = stored.value
        due = order.cancel_unpaid_at
        if due is None or due > now:
            return Decision(order)  # paid, or due later: written again, it is rescheduled
        cancelled = order.cancel(now, "not_paid")
        event = events.order_cancelled(cancelled, service, stored.next_version, now, order_id)
        return Decision(cancelled, [event])

    changed = await ctx.orders.change(order_id, decide, read=claimed)
    if changed.value.status is OrderStatus.CANCELLED:
        await code_uses.give_back(ctx, changed.value)
    return True
