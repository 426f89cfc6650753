"""What a paid order does to its service."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from rinnovo.orders.domain.calendar import add_years
from rinnovo.orders.domain.orders import Order, OrderStatus
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.subscription import Components, Status, Subscription

APPLIED_ORDERS_KEPT = 50


class PaymentRefusal(StrEnum):
    """Why a registered payment cannot pay its order (the money then goes to review)."""

    ORDER_CANCELLED = "order_cancelled"
    SERVICE_DEACTIVATED = "service_deactivated"
    ALREADY_PAID = "already_paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    """Its amount is not the order's: told apart (``payment_mismatched``), never applied."""


@dataclass(frozen=True)
class RegisteredPayment:
    """What a registered payment says of the money for an order."""

    payment_id: str
    amount_cents: int
    at: datetime
    written_off_cents: int = 0
    """What payments' operator wrote off of an under-payment."""


def pays_in_full(order: Order, payment: RegisteredPayment) -> bool:
    """The payment covers the order's total: at least the total arrived (payments reviews
    any excess), or, with a write-off, what arrived and what was written off make it."""
    total = order.quote.total_cents
    if payment.written_off_cents:
        return payment.amount_cents + payment.written_off_cents == total
    return payment.amount_cents >= total


def take_payment(
    order: Order, service: Subscription, payment: RegisteredPayment
) -> Order | PaymentRefusal:
    """The order paid by this payment, or why it cannot be. An order this same payment paid
    already comes back unchanged (a redelivery)."""
    if order.status is OrderStatus.CANCELLED:
        return PaymentRefusal.ORDER_CANCELLED
    if order.status is OrderStatus.PAID:
        return order if order.payment_id == payment.payment_id else PaymentRefusal.ALREADY_PAID
    if not pays_in_full(order, payment):
        return PaymentRefusal.AMOUNT_MISMATCH
    paid = order.pay(payment.payment_id, payment.at)
    if not payment_in_time(service, paid):
        return PaymentRefusal.SERVICE_DEACTIVATED
    return paid


class CannotApply(Exception):
    """The paid order can no longer change its service (e.g. the service was deactivated)."""


class AlreadyApplied(Exception):
    """The order was applied to the service before (a replayed event)."""


def apply_paid_order(service: Subscription, order: Order, paid_on: date) -> Subscription:
    """The service after its order was paid on a Rome date.

    A first purchase runs from the day its payment is registered; a renewal or reactivation
    extends from the previous expiry date (no free days, no lost days), even if the expiry
    already ran; an upgrade changes the components and never the expiry date.
    """
    if order.order_id in service.applied_orders:
        raise AlreadyApplied(order.order_id)
    service = replace(
        service, applied_orders=(*service.applied_orders, order.order_id)[-APPLIED_ORDERS_KEPT:]
    )
    if not payment_in_time(service, order):
        raise CannotApply(f"service {service.username} was deactivated before the payment")
    q = order.quote
    components = Components(q.components.storage_gb, q.components.extra_users, q.components.nso)
    auto_renewal = order.automatic_renewal or service.auto_renewal
    if order.kind is OrderKind.UPGRADE:
        if service.status is not Status.ACTIVE:
            raise CannotApply(f"service {service.username} is not active")
        return replace(service, components=components, auto_renewal=auto_renewal)
    if order.kind is OrderKind.FIRST_PURCHASE:
        expiry = add_years(paid_on, q.term_years)
    else:
        if service.expiry_date is None:
            raise CannotApply(f"service {service.username} has never been active")
        expiry = add_years(service.expiry_date, q.term_years)
    return replace(
        service,
        status=Status.ACTIVE,
        expiry_date=expiry,
        components=components,
        auto_renewal=auto_renewal,
        milestones_done=(),  # a new term, a new set of milestones
        deactivated_at=None,
    )


def payment_in_time(service: Subscription, order: Order) -> bool:
    """A payment registered before the service was deactivated still counts, even if the
    deactivation was written a moment before the payment reached us."""
    if service.status is not Status.DEACTIVATED:
        return True
    return (
        order.paid_at is not None
        and service.deactivated_at is not None
        and order.paid_at < service.deactivated_at
    )
