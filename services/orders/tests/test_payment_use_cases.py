"""Payments registered by the payments service, on the in-memory stores (as
``test_orders_flows`` and ``test_lifecycle`` do on the real servers)."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from rinnovo.orders.domain.orders import OrderStatus
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.subscription import Status
from rinnovo.orders.service_layer import cancellation, payments
from rinnovo.orders.service_layer.context import Context
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import end_of_rome_day, rome_date
from rinnovo.runtime.dead_letters import PoisonMessage
from rinnovo.runtime.errors import Conflict

Orders = Any  # the conftest's harness


class Died(Exception):
    pass


class DiesWriting:
    """A store that reads, then dies at the write (a crash, a database gone)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Any) -> Any:
        raise Died


async def test_a_renewal_paid_twice_extends_the_expiry_once(orders: Orders) -> None:
    before = await orders.import_service("ann")
    assert before.expiry_date is not None
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    event = await orders.pay(placed)
    await payments.register_payment(orders.ctx, event)  # redelivered
    await orders.pay(placed, "pay-2")  # a second payment of the same order
    after = await orders.service("svc-ann")
    assert after.expiry_date == before.expiry_date.replace(year=before.expiry_date.year + 1)
    assert orders.types() == ["orders.service.activated", "orders.service.renewed"]
    assert [e.type for e in orders.orders.events] == [
        "orders.order.placed",
        "orders.order.paid",
        "orders.order.payment_refused",  # the second payment goes to review
    ]
    assert [h.event for h in after.history] == ["activated", "renewed"]


async def test_a_first_purchase_activates_when_paid(orders: Orders) -> None:
    placed = await orders.order("bob", OrderKind.FIRST_PURCHASE, term_years=2)
    await orders.pay(placed)
    service = await orders.service(placed.subscription_id)
    today = rome_date(orders.clock.now())
    assert service.status is Status.ACTIVE
    assert service.expiry_date == today.replace(year=today.year + 2)
    assert service.next_due_at is not None  # its first milestone is scheduled


async def test_a_crash_between_the_two_writes_is_finished_by_the_redelivery(
    orders: Orders,
) -> None:
    await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    event = orders.payment(placed, "pay-1")
    ctx: Context = orders.ctx
    # The order is paid, then the process dies before the service is written.
    broken = replace(ctx, services=Changes(DiesWriting(orders.services)))
    with pytest.raises(Died):
        await payments.register_payment(broken, event)
    assert (await orders.order_now(placed.order_id)).status is OrderStatus.PAID
    assert orders.types() == ["orders.service.activated"]
    await payments.register_payment(ctx, event)
    assert orders.types() == ["orders.service.activated", "orders.service.renewed"]
    assert len(orders.events("orders.order.paid")) == 1


async def test_pay_then_cancel_and_cancel_then_pay_end_consistently(orders: Orders) -> None:
    await orders.import_service("ann")
    await orders.import_service("bob")
    paid = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    await orders.pay(paid)
    with pytest.raises(Conflict):
        await cancellation.cancel_order(orders.ctx, "ann", paid.order_id, confirm=True)
    cancelled = await orders.order("bob", OrderKind.RENEWAL, service_id="svc-bob")
    await cancellation.cancel_order(orders.ctx, "bob", cancelled.order_id, confirm=True)
    await orders.pay(cancelled, "pay-bob")
    [refused] = orders.events("orders.order.payment_refused")
    assert refused.payload.reason.value == "order_cancelled"
    assert (await orders.service("svc-bob")).history[-1].event == "activated"


async def test_a_payment_after_deactivation_is_refused_not_applied(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now()) - timedelta(days=50)
    await orders.import_service("ann", status=Status.EXPIRED, expiry_date=expiry)
    placed = await orders.order("ann", OrderKind.REACTIVATION, service_id="svc-ann")
    await orders.travel_to(end_of_rome_day(expiry + timedelta(days=60)))
    assert (await orders.service("svc-ann")).status is Status.DEACTIVATED
    await orders.pay(placed)  # registered after the deactivation
    [refused] = orders.events("orders.order.payment_refused")
    assert refused.payload.reason.value == "service_deactivated"
    assert (await orders.service("svc-ann")).status is Status.DEACTIVATED
    assert (await orders.order_now(placed.order_id)).status is OrderStatus.AWAITING_PAYMENT


async def test_a_payment_for_an_unknown_order_is_poison(orders: Orders) -> None:
    await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    unknown = orders.payment(replace(placed, order_id="nope"), "pay-1")
    with pytest.raises(PoisonMessage):
        await payments.register_payment(orders.ctx, unknown)


async def test_a_renewal_paid_takes_one_read_and_one_write_per_document(orders: Orders) -> None:
    """The hot path: an order read, its service read, then one guarded write each."""
    await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    event = orders.payment(placed, "pay-1")
    loads = orders.orders.loads + orders.services.loads
    writes = orders.orders.writes + orders.services.writes
    await payments.register_payment(orders.ctx, event)
    assert orders.orders.loads + orders.services.loads - loads == 2
    assert orders.orders.writes + orders.services.writes - writes == 2


def registered(orders: Orders, order: Any, payment_id: str, **amounts: int | None) -> Any:
    """A registered payment of ``order`` saying other amounts than its total."""
    event = orders.payment(order, payment_id)
    payload = event.payload.model_copy(update=amounts)
    return event.model_copy(update={"payload": payload})


async def test_a_payment_short_of_its_order_goes_to_review_not_to_a_renewal(
    orders: Orders,
) -> None:
    before = await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    total = placed.quote.total_cents
    for short in (
        registered(orders, placed, "pay-1", amount_cents=total - 1),
        registered(orders, placed, "pay-2", amount_cents=1, written_off_cents=total - 2),
    ):
        await payments.register_payment(orders.ctx, short)
        await payments.register_payment(orders.ctx, short)  # redelivered: told once
    assert (await orders.order_now(placed.order_id)).status is OrderStatus.AWAITING_PAYMENT
    assert (await orders.service("svc-ann")).expiry_date == before.expiry_date
    mismatched = orders.events("orders.order.payment_mismatched")
    assert [(e.payload.payment_id, e.payload.expected_cents) for e in mismatched] == [
        ("pay-1", total),
        ("pay-2", total),
    ]
    assert mismatched[1].payload.written_off_cents == total - 2
    assert orders.events("orders.order.paid") == []


async def test_a_payment_whose_write_off_makes_the_total_pays_the_order(orders: Orders) -> None:
    await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    total = placed.quote.total_cents
    event = registered(orders, placed, "pay-1", amount_cents=total - 150, written_off_cents=150)
    await payments.register_payment(orders.ctx, event)
    assert (await orders.order_now(placed.order_id)).status is OrderStatus.PAID
    assert orders.types() == ["orders.service.activated", "orders.service.renewed"]
