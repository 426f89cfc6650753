"""Carts: opened from a product or from a service's card, changed, quoted to the cent."""

import uuid
from dataclasses import dataclass, replace
from datetime import date

from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.orders.domain.card import card
from rinnovo.orders.domain.carts import (
    Cart,
    cart_for_service,
    check_changeable,
    first_purchase_cart,
    quote_cart,
)
from rinnovo.orders.domain.pricing import OrderKind, Quote, QuoteRefused
from rinnovo.orders.service_layer.context import Context, refusals
from rinnovo.orders.service_layer.ports import Policies
from rinnovo.runtime.changes import Decision, Stored
from rinnovo.runtime.errors import Conflict, Invalid

WANTED = ("storage_gb", "extra_users", "nso")
CHOICES = ("term_years", "payment_method", "automatic_renewal", "convention_code")


@dataclass(frozen=True)
class CartView:
    cart: Cart
    quote: Quote


@dataclass(frozen=True)
class Pricing:
    """What a cart's quote reads besides the cart."""

    product: ProductSnapshot
    code: ConventionCodeSnapshot | None
    expiry: date | None


async def start_cart(
    ctx: Context,
    customer_id: str,
    kind: OrderKind,
    service_id: str | None,
    product_id: str | None,
    username: str | None,
) -> CartView:
    now = ctx.now()
    cart_id = str(uuid.uuid4())
    if kind is OrderKind.FIRST_PURCHASE:
        if not product_id or not username:
            raise Invalid("product_id", "a first purchase names a product and a username")
        product = await ctx.product_on_sale(product_id)
        new_cart = first_purchase_cart(cart_id, customer_id, product, username, now)
    elif kind is OrderKind.AUTOMATIC_RENEWAL:
        raise Invalid("kind", "automatic renewals are placed by the system")
    else:
        if not service_id:
            raise Invalid("service_id", f"a {kind.value} starts from a service")
        service = (await ctx.own_service(customer_id, service_id)).value
        product = await ctx.product(service.product_id)
        shown = card(service, product.policy, ctx.today())
        try:
            new_cart = cart_for_service(cart_id, kind, service, shown, now)
        except QuoteRefused as refused:
            raise Conflict(refused.reason) from refused
        if kind is not OrderKind.UPGRADE:
            await no_open_renewal(ctx, service.subscription_id)
        if new_cart.term_years not in product.allowed_terms_years:
            new_cart = replace(new_cart, term_years=min(product.allowed_terms_years))
    view = await quoted(ctx, new_cart)
    await ctx.carts.create(cart_id, new_cart)
    return view


async def cart(ctx: Context, customer_id: str, cart_id: str) -> CartView:
    return await quoted(ctx, (await ctx.own_cart(customer_id, cart_id)).value)


async def change_cart(
    ctx: Context, customer_id: str, cart_id: str, changes: dict[str, object]
) -> CartView:
    """Set the fields named, on the cart as it is now (a concurrent change is kept)."""
    pricing: Pricing | None = None

    async def read_pricing(stored: Stored[Cart]) -> None:
        nonlocal pricing
        pricing = await pricing_of(ctx, changed(stored.value, changes))

    def decide(stored: Stored[Cart]) -> Decision[Cart]:
        updated = changed(stored.value, changes)
        check_payment_choice(ctx.policies, updated)
        assert pricing is not None
        price(ctx, updated, pricing)  # refuses what cannot be quoted
        return Decision(updated)

    read = await ctx.own_cart(customer_id, cart_id)
    with refusals():  # a cart's kind never changes
        check_changeable(read.value.kind, changes)
    done = await ctx.carts.change(cart_id, decide, read=read, before=read_pricing)
    assert pricing is not None
    return CartView(done.value, price(ctx, done.value, pricing))


def changed(cart: Cart, changes: dict[str, object]) -> Cart:
    wanted = cart.wanted
    for field in WANTED:
        if field in changes:
            wanted = replace(wanted, **{field: changes[field]})  # type: ignore[arg-type]
    updated = replace(cart, wanted=wanted)
    for field in CHOICES:
        if field in changes:
            updated = replace(updated, **{field: changes[field]})  # type: ignore[arg-type]
    return updated


async def no_open_renewal(ctx: Context, service_id: str) -> None:
    found = await ctx.orders.find({"open_slot": f"{service_id}:renewal"}, limit=1)
    if found:
        raise Conflict(f"order {found[0].value.number} is awaiting payment: pay or cancel it first")


async def pricing_of(ctx: Context, cart: Cart) -> Pricing:
    product = await ctx.product(cart.product_id)
    code = await ctx.codes.get(cart.convention_code) if cart.convention_code else None
    expiry = None
    if cart.subscription_id:
        service = await ctx.services.get(cart.subscription_id)
        expiry = service.value.expiry_date if service else None
    return Pricing(product, code, expiry)


def price(ctx: Context, cart: Cart, pricing: Pricing) -> Quote:
    with refusals():
        return quote_cart(cart, pricing.product, ctx.today(), pricing.expiry, pricing.code)


async def quoted(ctx: Context, cart: Cart) -> CartView:
    return CartView(cart, price(ctx, cart, await pricing_of(ctx, cart)))


def check_payment_choice(policies: Policies, cart: Cart) -> None:
    method = cart.payment_method
    if method is not None and method not in policies.payment_methods:
        known = ", ".join(sorted(policies.payment_methods))
        raise Invalid("payment_method", f"{method!r} is not offered; choose one of {known}")
    if cart.automatic_renewal and method not in policies.stored_payment_methods:
        raise Invalid(
            "automatic_renewal",
            "automatic renewal needs a stored method: "
            + ", ".join(sorted(policies.stored_payment_methods)),
        )
