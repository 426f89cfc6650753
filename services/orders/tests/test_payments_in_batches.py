"""Payments registered by the payments service, consumed in batches: the unit of work keeps
each order's and service's changes in memory, so two payments in one batch never both decide
on the same order, and a service is written only once its order is."""

from collections.abc import Sequence
from typing import Any

from rinnovo.contracts.topics import PAYMENTS_PAYMENT
from rinnovo.orders.domain.orders import OrderStatus
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.entrypoints.events import on_payment_event
from rinnovo.orders.service_layer.context import Context
from rinnovo.runtime.changes import Changes, Decision, Stored, Write
from rinnovo.testing.batches import batch_consumer, record

Orders = Any  # the conftest's harness
TOPIC = PAYMENTS_PAYMENT.name


async def test_two_payments_of_one_order_in_a_batch_renew_once(orders: Orders) -> None:
    before = await orders.import_service("ann")
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    consumer, kept = batch_consumer([(PAYMENTS_PAYMENT, on_payment_event(orders.ctx))])
    first, second = orders.payment(placed, "pay-1"), orders.payment(placed, "pay-2")
    writes = orders.services.writes
    await consumer.handle([record(TOPIC, first, 0), record(TOPIC, second, 1, partition=1)])
    after = await orders.service("svc-ann")
    assert after.expiry_date == before.expiry_date.replace(year=before.expiry_date.year + 1)
    assert [e.type for e in orders.orders.events] == [
        "orders.order.placed",
        "orders.order.paid",
        "orders.order.payment_refused",  # the second payment goes to review
    ]
    assert orders.types() == ["orders.service.activated", "orders.service.renewed"]
    assert orders.services.writes - writes == 1 and kept.sent == []


class Meddling:
    """Orders' store, where a customer cancels ``order_id`` just before the batch's first
    write of orders: the batch's write of that order loses."""

    def __init__(self, store: Any, ctx: Context, order_id: str) -> None:
        self.store, self.ctx, self.order_id = store, ctx, order_id
        self.meddled = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Sequence[Write[Any]]) -> list[Stored[Any] | None]:
        if not self.meddled:
            self.meddled = True
            now = self.ctx.now()
            await Changes(self.store).change(
                self.order_id, lambda s: Decision(s.value.cancel(now, "customer"))
            )
        return list(await self.store.write(writes))


async def test_a_payment_whose_order_was_cancelled_meanwhile_never_renews(
    orders: Orders,
) -> None:
    """The order's write loses to a cancellation: the service's change, decided on the
    order as paid, is not written; handled again alone, the payment is refused."""
    await orders.import_service("ann")
    await orders.import_service("bob")
    ann = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    bob = await orders.order("bob", OrderKind.RENEWAL, service_id="svc-bob")
    ctx = orders.ctx
    meddling = Meddling(orders.orders, ctx, bob.order_id)
    batched = Context(**{**ctx.__dict__, "orders": Changes(meddling, ctx.orders.on_events)})
    consumer, _ = batch_consumer([(PAYMENTS_PAYMENT, on_payment_event(batched))])
    paid = [orders.payment(ann, "pay-ann"), orders.payment(bob, "pay-bob")]
    await consumer.handle([record(TOPIC, e, n) for n, e in enumerate(paid)])
    assert (await orders.order_now(ann.order_id)).status is OrderStatus.PAID
    assert (await orders.order_now(bob.order_id)).status is OrderStatus.CANCELLED
    [refused] = orders.events("orders.order.payment_refused")
    assert refused.payload.reason.value == "order_cancelled"
    assert [h.event for h in (await orders.service("svc-bob")).history] == ["activated"]
    assert [h.event for h in (await orders.service("svc-ann")).history][-1] == "renewed"
