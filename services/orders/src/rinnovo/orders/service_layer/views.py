"""What the customer area shows: cards, timelines, orders, the products on sale."""

from rinnovo.contracts.catalog import ProductPolicy, ProductSnapshot
from rinnovo.orders.domain.card import Card, card
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.schedule import Milestone, pending
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.service_layer.context import Context


async def cards(ctx: Context, customer_id: str) -> list[Card]:
    services = await ctx.services.find({"customer_id": customer_id}, sort=[("_id", 1)])
    today = ctx.today()
    policies: dict[str, ProductPolicy] = {}
    shown = []
    for s in services:
        product_id = s.value.product_id
        if product_id not in policies:
            policies[product_id] = await ctx.policy(product_id)
        shown.append(card(s.value, policies[product_id], today))
    return shown


async def service_card(ctx: Context, customer_id: str, service_id: str) -> Card:
    service = (await ctx.own_service(customer_id, service_id)).value
    return card(service, await ctx.policy(service.product_id), ctx.today())


async def timeline(
    ctx: Context, customer_id: str, service_id: str
) -> tuple[Subscription, list[Milestone]]:
    """What happened to a service, and what will happen next with its dates."""
    service = (await ctx.own_service(customer_id, service_id)).value
    return service, pending(service, await ctx.policy(service.product_id))


async def orders_of(ctx: Context, customer_id: str, service_id: str | None = None) -> list[Order]:
    """A customer's orders (of one of their services), newest first."""
    where = {"customer_id": customer_id}
    if service_id is not None:
        await ctx.own_service(customer_id, service_id)
        where["subscription_id"] = service_id
    found = await ctx.orders.find(where, sort=[("placed_at", -1), ("_id", 1)])
    return [o.value for o in found]


async def own_order(ctx: Context, customer_id: str, order_id: str) -> Order:
    return (await ctx.own_order(customer_id, order_id)).value


async def products_on_sale(ctx: Context) -> list[ProductSnapshot]:
    return [p for p in await ctx.products.all() if p.active]
