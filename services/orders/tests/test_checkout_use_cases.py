"""Carts, checkout and cancellation on the in-memory stores (as ``test_orders_flows`` does on
the real servers)."""

import asyncio
from typing import Any

import pytest

from rinnovo.orders.domain.orders import OrderStatus
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.subscription import Holder
from rinnovo.orders.service_layer import cancellation, carts, checkout, views
from rinnovo.runtime.errors import Conflict, Invalid, NotFound

Orders = Any  # the conftest's harness

ACCEPTED = {doc: "2025-01" for doc in ("general_conditions", "unfair_terms", "privacy")}
HOLDER = Holder("Studio Rossi", "rossi@example.it", "it")  # as the harness checks out


async def test_a_renewal_is_placed_with_its_event_and_one_wake_up(orders: Orders) -> None:
    await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    assert placed.status is OrderStatus.AWAITING_PAYMENT
    assert placed.number.startswith("RN-2027-")
    [event] = orders.events("orders.order.placed")
    assert event.aggregate_id == placed.order_id and event.aggregate_version == 1
    assert orders.wakes  # the relay was told
    assert [o.order_id for o in await views.orders_of(orders.ctx, "ann")] == [placed.order_id]


async def test_one_idempotency_key_gives_one_order_and_another_body_is_refused(
    orders: Orders,
) -> None:
    await orders.import_service("ann")
    view = await carts.start_cart(orders.ctx, "ann", OrderKind.RENEWAL, "svc-ann", None, None)
    cart_id = view.cart.cart_id
    await carts.change_cart(orders.ctx, "ann", cart_id, {"payment_method": "bank_transfer"})
    attempts = [
        checkout.checkout(orders.ctx, "ann", cart_id, ACCEPTED, None, "key-1") for _ in range(3)
    ]
    placed = await asyncio.gather(*attempts)
    assert len({o.order_id for o in placed}) == 1
    assert len(orders.events("orders.order.placed")) == 1
    other = {**ACCEPTED, "privacy": "2024-01"}
    with pytest.raises(Invalid) as refused:
        await checkout.checkout(orders.ctx, "ann", cart_id, other, None, "key-1")
    assert refused.value.field == "Idempotency-Key"


async def test_idempotency_keys_of_two_customers_never_meet(orders: Orders) -> None:
    # "a:b" with the key "c" and "a" with the key "b:c" once shared one record and one order.
    for customer in ("a:b", "a", "m:n", "m"):
        await orders.import_service(customer)
    victim = await orders.order("a:b", OrderKind.RENEWAL, service_id="svc-a:b", key="c")
    # The same key on one's own cart is one's own new order, not a refusal.
    own = await orders.order("a", OrderKind.RENEWAL, service_id="svc-a", key="b:c")
    assert own.customer_id == "a" and own.order_id != victim.order_id
    [own_cart] = await cart_ids(orders, "a")
    again = await checkout.checkout(orders.ctx, "a", own_cart, ACCEPTED, HOLDER, "b:c")
    assert again.order_id == own.order_id
    # Naming another's cart with the colliding key finds neither their order nor their cart.
    await orders.order("m:n", OrderKind.RENEWAL, service_id="svc-m:n", key="o")
    [victims_cart] = await cart_ids(orders, "m:n")
    with pytest.raises(NotFound):
        await checkout.checkout(orders.ctx, "m", victims_cart, ACCEPTED, HOLDER, "n:o")


async def cart_ids(orders: Orders, customer_id: str) -> list[str]:
    return [s.value.cart_id for s in await orders.ctx.carts.find({"customer_id": customer_id})]


async def test_at_most_one_open_renewal_per_service(orders: Orders) -> None:
    await orders.import_service("ann")
    view = await carts.start_cart(orders.ctx, "ann", OrderKind.RENEWAL, "svc-ann", None, None)
    await carts.change_cart(
        orders.ctx, "ann", view.cart.cart_id, {"payment_method": "bank_transfer"}
    )
    await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    with pytest.raises(Conflict):  # a new cart is refused
        await carts.start_cart(orders.ctx, "ann", OrderKind.RENEWAL, "svc-ann", None, None)
    with pytest.raises(Conflict):  # and so is a cart opened before, at checkout
        await checkout.checkout(orders.ctx, "ann", view.cart.cart_id, ACCEPTED, None, None)
    assert len(orders.events("orders.order.placed")) == 1


async def test_a_first_purchase_creates_its_service_pending_activation(orders: Orders) -> None:
    placed = await orders.order("bob", OrderKind.FIRST_PURCHASE)
    service = await orders.service(placed.subscription_id)
    assert service.status.value == "pending_activation"
    assert service.customer_id == "bob" and service.username == "new-bob"


async def test_an_upgrade_must_add_something(orders: Orders) -> None:
    await orders.import_service("ann", storage_gb=5)
    with pytest.raises(Invalid) as refused:
        await orders.order("ann", OrderKind.UPGRADE, service_id="svc-ann")
    assert refused.value.field == "components"
    upgrade = await orders.order("ann", OrderKind.UPGRADE, service_id="svc-ann", storage_gb=10)
    assert upgrade.quote.lines and upgrade.automatic_renewal is None


async def test_bad_choices_name_their_field(orders: Orders) -> None:
    await orders.import_service("ann")
    view = await carts.start_cart(orders.ctx, "ann", OrderKind.RENEWAL, "svc-ann", None, None)
    cart_id = view.cart.cart_id
    for changes, field in [
        ({"payment_method": "cash"}, "payment_method"),
        ({"payment_method": "bank_transfer", "automatic_renewal": True}, "automatic_renewal"),
        ({"term_years": 11}, "term_years"),
        ({"convention_code": "NOPE"}, "convention_code"),
    ]:
        with pytest.raises(Invalid) as refused:
            await carts.change_cart(orders.ctx, "ann", cart_id, changes)
        assert refused.value.field == field
    kept = await carts.cart(orders.ctx, "ann", cart_id)
    assert kept.cart.payment_method is None and kept.cart.term_years == 1
    with pytest.raises(Invalid) as refused:
        await checkout.checkout(orders.ctx, "ann", cart_id, ACCEPTED, None, None)
    assert refused.value.field == "payment_method"


async def test_cancelling_needs_confirmation_and_only_unpaid_orders(orders: Orders) -> None:
    await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    with pytest.raises(Invalid):
        await cancellation.cancel_order(orders.ctx, "ann", placed.order_id, confirm=False)
    cancelled = await cancellation.cancel_order(orders.ctx, "ann", placed.order_id, confirm=True)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel_reason == "customer"
    with pytest.raises(Conflict):
        await cancellation.cancel_order(orders.ctx, "ann", placed.order_id, confirm=True)
    [event] = orders.events("orders.order.cancelled")
    assert event.aggregate_version == 2
    # The slot is free again: a new renewal may be placed.
    await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")


async def test_customers_only_ever_see_their_own_things(orders: Orders) -> None:
    await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    view = await carts.start_cart(orders.ctx, "ann", OrderKind.UPGRADE, "svc-ann", None, None)
    for attempt in (
        views.service_card(orders.ctx, "eve", "svc-ann"),
        views.timeline(orders.ctx, "eve", "svc-ann"),
        views.orders_of(orders.ctx, "eve", "svc-ann"),
        views.own_order(orders.ctx, "eve", placed.order_id),
        carts.cart(orders.ctx, "eve", view.cart.cart_id),
        carts.change_cart(orders.ctx, "eve", view.cart.cart_id, {"nso": True}),
        cancellation.cancel_order(orders.ctx, "eve", placed.order_id, confirm=True),
        carts.start_cart(orders.ctx, "eve", OrderKind.RENEWAL, "svc-ann", None, None),
    ):
        with pytest.raises(NotFound):
            await attempt
    assert await views.cards(orders.ctx, "eve") == []
    assert await views.orders_of(orders.ctx, "eve") == []
