"""A payment requested for a placed order: how it is to be paid, and whether it is paid
already (fully discounted) or charged at once (automatic renewal on a stored method)."""

from dataclasses import replace
from datetime import datetime

from rinnovo.contracts.orders import OrderPlacedPayload
from rinnovo.contracts.payments import InstructionsKind
from rinnovo.payments.domain.payments import (
    AUTOMATIC_RENEWAL,
    Charging,
    Holder,
    Instructions,
    Payment,
    Registration,
)


def payment_id_for(order_id: str) -> str:
    """One payment per order, named after it: a redelivered order creates nothing new."""
    return f"pay-{order_id}"


def holder_of(order: OrderPlacedPayload) -> Holder:
    h = order.holder
    return Holder(h.customer_id, h.name, str(h.email), h.locale)


def requested(
    order: OrderPlacedPayload,
    method: str,
    instructions: Instructions,
    usual_registration_days: int,
    charges_stored_method: bool,
    now: datetime,
) -> Payment:
    """The payment ``order`` awaits, by ``method``. An automatic renewal whose method can
    be charged without the customer is charged at once; a hosted method's link stays in its
    instructions as the way to pay by hand should every charge fail."""
    charge_now = order.kind.value == AUTOMATIC_RENEWAL and charges_stored_method
    if charge_now:
        instructions = replace(instructions, kind=InstructionsKind.STORED_METHOD.value)
    return Payment(
        payment_id=payment_id_for(order.order_id),
        order_id=order.order_id,
        order_number=order.number,
        order_kind=order.kind.value,
        service_id=order.service_id,
        product_id=order.product_id,
        holder=holder_of(order),
        method=method,
        amount_cents=order.total_cents,
        instructions=instructions,
        usual_registration_days=usual_registration_days,
        requested_at=now,
        charging=Charging(next_attempt_at=now) if charge_now else None,
    )


def paid_in_full(payment: Payment, now: datetime) -> Payment | None:
    """A fully discounted order is paid as soon as it is requested: nothing to wait for."""
    if payment.amount_cents != 0:
        return None
    return payment.register(Registration(f"free:{payment.order_id}", "operator", 0, now))
