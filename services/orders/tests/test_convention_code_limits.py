"""Convention codes with use limits, on the in-memory stores: a use per order awaiting
payment or paid, in all and per customer, and a cancelled order gives its use back."""

from typing import Any

import pytest

from rinnovo.orders.domain.orders import OrderStatus
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.service_layer import cancellation, carts, checkout
from rinnovo.runtime.clock import end_of_rome_day
from rinnovo.runtime.errors import Invalid

from .conftest import ACCEPTED, HOLDER, Orders

CODE = "ORDINE-COMMERCIALISTI"


def limit(orders: Orders, total: int | None, per_customer: int | None) -> None:
    version, code = orders.ctx.codes.snapshots[CODE]  # type: ignore[attr-defined]
    changed = code.model_copy(update={"max_uses": total, "max_uses_per_customer": per_customer})
    orders.ctx.codes.snapshots[CODE] = (version + 1, changed)  # type: ignore[attr-defined]


async def test_a_code_is_used_at_most_as_often_as_it_allows(orders: Orders) -> None:
    limit(orders, total=2, per_customer=1)
    first = await orders.order("ann", OrderKind.FIRST_PURCHASE, convention_code=CODE)
    assert first.convention_code == CODE
    with pytest.raises(Invalid) as again:  # ann's one use is taken
        await orders.order("ann", OrderKind.FIRST_PURCHASE, convention_code=CODE)
    assert again.value.field == "convention_code"
    await orders.order("bob", OrderKind.FIRST_PURCHASE, convention_code=CODE)
    with pytest.raises(Invalid):  # both uses are taken
        await orders.order("carl", OrderKind.FIRST_PURCHASE, convention_code=CODE)
    await orders.order("carl", OrderKind.FIRST_PURCHASE)  # without the code, as ever

    # A cancelled order gives its use back, once.
    await cancellation.cancel_order(orders.ctx, "ann", first.order_id, confirm=True)
    await orders.order("carl", OrderKind.FIRST_PURCHASE, convention_code=CODE)
    with pytest.raises(Invalid):
        await orders.order("dan", OrderKind.FIRST_PURCHASE, convention_code=CODE)


async def test_a_checkout_retried_after_a_crash_counts_one_use(
    orders: Orders, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit(orders, total=1, per_customer=None)
    ctx = orders.ctx
    view = await carts.start_cart(ctx, "ann", OrderKind.FIRST_PURCHASE, None, "fe-standard", "u")
    cart_id = view.cart.cart_id
    await carts.change_cart(
        ctx, "ann", cart_id, {"payment_method": "bank_transfer", "convention_code": CODE}
    )

    async def crash(*_: Any, **__: Any) -> None:
        raise ConnectionError("the process stopped after counting the use")

    with monkeypatch.context() as patched:
        patched.setattr(ctx.orders, "create", crash)
        with pytest.raises(ConnectionError):
            await checkout.checkout(ctx, "ann", cart_id, ACCEPTED, HOLDER, "k")
    placed = await checkout.checkout(ctx, "ann", cart_id, ACCEPTED, HOLDER, "k")
    assert placed.convention_code == CODE


async def test_an_unpaid_order_cancelled_by_the_scheduler_gives_its_use_back(
    orders: Orders,
) -> None:
    limit(orders, total=1, per_customer=None)
    placed = await orders.order("ann", OrderKind.FIRST_PURCHASE, convention_code=CODE)
    with pytest.raises(Invalid):
        await orders.order("bob", OrderKind.FIRST_PURCHASE, convention_code=CODE)
    await orders.travel_to(end_of_rome_day(placed.payment_due))
    assert (await orders.order_now(placed.order_id)).status is OrderStatus.CANCELLED
    await orders.order("bob", OrderKind.FIRST_PURCHASE, convention_code=CODE)
