"""Convention codes with use limits: a use is counted when an order is placed with the
code and given back when that order is cancelled, so only orders awaiting payment or paid
count. A crash between the order's write and the count's leaves a use counted for nothing:
the limits may be met early, never passed."""

from rinnovo.contracts.catalog import ConventionCodeSnapshot
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.service_layer.context import Context
from rinnovo.orders.service_layer.ports import UseLimits
from rinnovo.runtime.errors import Invalid


async def count_use(ctx: Context, order: Order, code: ConventionCodeSnapshot | None) -> None:
    """Count the order's use of its code, or refuse the order when a limit is reached."""
    if code is None or order.convention_code != code.code:
        return
    if code.max_uses is None and code.max_uses_per_customer is None:
        return  # nothing to count
    limits = UseLimits(code.max_uses, code.max_uses_per_customer)
    if not await ctx.code_uses.claim(code.code, order.order_id, order.customer_id, limits):
        raise Invalid("convention_code", f"the code {code.code} has reached its limit of uses")


async def give_back(ctx: Context, order: Order) -> None:
    """An order that will never be paid frees its use of its code."""
    if order.convention_code is not None:
        await ctx.code_uses.release(order.convention_code, order.order_id, order.customer_id)
