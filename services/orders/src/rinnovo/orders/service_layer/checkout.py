"""Checkout: a cart becomes an order awaiting payment (and a first purchase, its service)."""

import hashlib
import json
import uuid
from datetime import timedelta

from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.carts import Cart
from rinnovo.orders.domain.orders import Acceptance, Order, OrderStatus
from rinnovo.orders.domain.pricing import OrderKind, Quote
from rinnovo.orders.domain.schedule import recorded
from rinnovo.orders.domain.subscription import AutoRenewal, Components, Holder, Status, Subscription
from rinnovo.orders.service_layer import code_uses
from rinnovo.orders.service_layer.carts import check_payment_choice, price, pricing_of
from rinnovo.orders.service_layer.context import Context
from rinnovo.orders.service_layer.ports import IdempotencyRecord
from rinnovo.runtime.changes import Taken
from rinnovo.runtime.errors import Conflict, Invalid

ACCEPTANCE_DOCUMENTS = ("general_conditions", "unfair_terms", "privacy")
ORDER_IDS = uuid.UUID(  # namespace of the ids derived from requests and terms
    "9b0f3d8e-4c1a-4c55-9a63-2d1f4f0a7e11"
)


async def checkout(
    ctx: Context,
    customer_id: str,
    cart_id: str,
    acceptances: dict[str, str],
    holder: Holder | None,
    idempotency_key: str | None,
) -> Order:
    order_id = str(uuid.uuid4())
    if idempotency_key:
        order_id = await _order_id_of_key(
            ctx, customer_id, cart_id, acceptances, holder, idempotency_key
        )
        if (existing := await ctx.orders.get(order_id)) is not None:
            return _own_answer(existing.value, customer_id)
    cart = (await ctx.own_cart(customer_id, cart_id)).value
    check_acceptances(ctx, acceptances)
    if cart.payment_method is None:
        raise Invalid("payment_method", "choose how to pay")
    check_payment_choice(ctx.policies, cart)
    product = await ctx.product(cart.product_id)
    service = await _service_for(ctx, cart, order_id, holder)
    pricing = await pricing_of(ctx, cart)
    q = price(ctx, cart, pricing)
    if cart.kind is OrderKind.UPGRADE and not q.lines:
        raise Invalid("components", "an upgrade must add space, users or the NSO module")
    order = await _order(ctx, order_id, cart, product, q, acceptances)
    placed = events.order_placed(order, service, product.name, 1, ctx.now())
    await code_uses.count_use(ctx, order, pricing.code)
    try:
        created = await ctx.orders.create(order_id, order, [placed])
    except Taken as exc:
        await code_uses.give_back(ctx, order)
        raise Conflict("this service already has a renewal awaiting payment") from exc
    if created is None:
        # The same idempotency key, checked out concurrently: one order, one answer.
        existing = await ctx.orders.get(order_id)
        assert existing is not None
        return _own_answer(existing.value, customer_id)
    return order


def idempotency_id(customer_id: str, key: str) -> str:
    """One id per customer and key, whatever characters either holds: a separator could be
    in both (``a:b`` with ``c`` and ``a`` with ``b:c`` would meet), JSON's quoting cannot."""
    pair = json.dumps([customer_id, key], separators=(",", ":"))
    return hashlib.sha256(pair.encode()).hexdigest()


def _own_answer(order: Order, customer_id: str) -> Order:
    """An order found by an idempotency key is the caller's answer only if it is theirs."""
    if order.customer_id != customer_id:
        raise Invalid("Idempotency-Key", "already used for a different request")
    return order


async def _order_id_of_key(
    ctx: Context,
    customer_id: str,
    cart_id: str,
    acceptances: dict[str, str],
    holder: Holder | None,
    key: str,
) -> str:
    """The order an ``Idempotency-Key`` names: the same key and request, the same order."""
    request = json.dumps(
        {"cart": cart_id, "acceptances": acceptances, "holder": holder and vars(holder)},
        sort_keys=True,
    )
    key_id = idempotency_id(customer_id, key)
    wanted = IdempotencyRecord(
        hashlib.sha256(request.encode()).hexdigest(),
        str(uuid.uuid5(ORDER_IDS, f"key:{key_id}")),
        customer_id,
    )
    claimed = await ctx.idempotency.claim(key_id, wanted)
    if claimed.request_hash != wanted.request_hash or claimed.customer_id != customer_id:
        raise Invalid("Idempotency-Key", "already used for a different request")
    return claimed.order_id


async def _order(
    ctx: Context,
    order_id: str,
    cart: Cart,
    product: ProductSnapshot,
    q: Quote,
    acceptances: dict[str, str],
) -> Order:
    now, today = ctx.now(), ctx.today()
    assert cart.payment_method is not None
    return Order(
        order_id=order_id,
        number=await ctx.numbers.next(today.year),
        customer_id=cart.customer_id,
        subscription_id=cart.subscription_id or service_id_for(order_id),
        kind=cart.kind,
        status=OrderStatus.AWAITING_PAYMENT,
        placed_at=now,
        payment_due=today + timedelta(days=product.policy.unpaid_order_timeout_days),
        payment_method=cart.payment_method,
        quote=q,
        catalog_product_version=await ctx.products.version(product.product_id),
        acceptances=tuple(Acceptance(doc, acceptances[doc], now) for doc in ACCEPTANCE_DOCUMENTS),
        automatic_renewal=AutoRenewal(
            enabled=cart.automatic_renewal,
            term_years=cart.term_years,
            payment_method=cart.payment_method if cart.automatic_renewal else None,
        )
        if cart.kind is not OrderKind.UPGRADE
        else None,
        convention_code=q.discount.code if q.discount else None,
    )


def service_id_for(order_id: str) -> str:
    """The service a first purchase creates, named after its order."""
    return str(uuid.uuid5(ORDER_IDS, f"service:{order_id}"))


def check_acceptances(ctx: Context, acceptances: dict[str, str]) -> None:
    for doc in ACCEPTANCE_DOCUMENTS:
        current = ctx.policies.acceptance_versions[doc]
        if acceptances.get(doc) != current:
            raise Invalid(f"acceptances.{doc}", f"accept version {current} to order")


async def _service_for(
    ctx: Context, cart: Cart, order_id: str, holder: Holder | None
) -> Subscription:
    if cart.subscription_id is not None:
        return (await ctx.service(cart.subscription_id)).value
    if holder is None:
        raise Invalid("holder", "a first purchase needs the holder's name and address")
    assert cart.username is not None
    service = Subscription(
        subscription_id=service_id_for(order_id),
        customer_id=cart.customer_id,
        holder=holder,
        username=cart.username,
        product_id=cart.product_id,
        status=Status.PENDING_ACTIVATION,
        expiry_date=None,
        components=Components(0, 0, False),
        used_bytes=0,
        auto_renewal=AutoRenewal(False, cart.term_years),
    )
    # An earlier attempt of this same checkout may have created it already.
    await ctx.services.create(
        service.subscription_id, recorded(service, (), await ctx.policy(service.product_id))
    )
    return service
