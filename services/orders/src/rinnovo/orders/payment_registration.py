"""A payment registered by the payments service: the order is paid, then its service changes.

Two documents and no transaction: each records the event id in its inbox in the same write,
so a redelivery after a crash between the two finishes the second only; the service also
keeps the orders it has applied, so even a replay from the start of the topic applies none
twice.
"""

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.orders import PaymentRefusedReason
from rinnovo.contracts.payments import PaymentRegistered
from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.orders import Order, OrderStatus
from rinnovo.orders.domain.paid_orders import (
    AlreadyApplied,
    CannotApply,
    apply_paid_order,
    payment_in_time,
)
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.handlers import OrdersApp
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.clock import rome_date
from rinnovo.runtime.dead_letters import PoisonMessage

log = structlog.get_logger(__name__)

SERVICE_EVENT_OF_KIND = {
    OrderKind.FIRST_PURCHASE: "activated",
    OrderKind.RENEWAL: "renewed",
    OrderKind.AUTOMATIC_RENEWAL: "renewed",
    OrderKind.REACTIVATION: "reactivated",
    OrderKind.UPGRADE: "upgraded",
}


class PaymentRegistration:
    def __init__(self, app: OrdersApp) -> None:
        self.app = app

    async def on_payment_event(self, event: Event) -> None:
        if isinstance(event, PaymentRegistered):
            await self._register_payment(event)

    async def _register_payment(self, event: PaymentRegistered) -> None:
        """Pay the order, then change its service: two documents, each with the event id in
        its inbox, so a redelivery after a crash between the two finishes the second only."""
        paid = await self._pay_order(event)
        if paid is not None:
            await self._apply_to_service(paid, event)
        self.app.events_written()

    async def _pay_order(self, event: PaymentRegistered) -> Order | None:
        p = event.payload
        event_id = str(event.event_id)
        while True:
            stored = await self.app.orders.get(p.order_id)
            if stored is None:
                raise PoisonMessage("unknown_order", f"payment for unknown order {p.order_id}")
            order = stored.value
            if event_id in stored.inbox:
                return order if order.payment_id == p.payment_id else None
            service = await self.app.subscriptions.get(order.subscription_id)
            assert service is not None
            now = self.app.clock.now()
            next_version = stored.version + 1
            refusal: PaymentRefusedReason | None = None
            new_order = order
            if order.status is OrderStatus.CANCELLED:
                refusal = PaymentRefusedReason.ORDER_CANCELLED
            elif order.status is OrderStatus.PAID:
                if order.payment_id == p.payment_id:
                    return order
                refusal = PaymentRefusedReason.ALREADY_PAID
            elif not payment_in_time(service.value, order.pay(p.payment_id, p.registered_at)):
                refusal = PaymentRefusedReason.SERVICE_DEACTIVATED
            else:
                new_order = order.pay(p.payment_id, p.registered_at)
            if refusal is None:
                emitted = events.order_paid(new_order, service.value, next_version, now, event)
            else:
                emitted = events.payment_refused(
                    order, p.payment_id, p.amount_cents, refusal, next_version, now, event
                )
                log.warning("payment refused", order=order.number, reason=refusal.value)
            try:
                await self.app.orders.save(
                    p.order_id, new_order, stored.version, [emitted], event_id
                )
            except VersionConflict:
                continue
            return new_order if refusal is None else None

    async def _apply_to_service(self, order: Order, event: PaymentRegistered) -> None:
        event_id = str(event.event_id)
        while True:
            stored = await self.app.subscriptions.get(order.subscription_id)
            assert stored is not None
            if event_id in stored.inbox:
                return
            before = stored.value
            try:
                after = apply_paid_order(before, order, rome_date(event.payload.registered_at))
            except AlreadyApplied:
                return
            except CannotApply as exc:
                # Paid a moment before the service became unusable: an operator decides.
                raise PoisonMessage("cannot_apply_payment", str(exc)) from exc
            emitted = events.service_changed(
                SERVICE_EVENT_OF_KIND[order.kind],
                after,
                stored.version + 1,
                self.app.clock.now(),
                order_id=order.order_id,
                previous=before,
                cause=event,
            )
            try:
                await self.app.write_service(stored, after, [emitted], event_id)
            except VersionConflict:
                continue
            return
