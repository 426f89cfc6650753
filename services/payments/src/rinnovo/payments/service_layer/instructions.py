"""The payment each placed order awaits: requested with the instructions of its method,
voided when the order is cancelled first, paid on the provider's page, shown to its
customer."""

from dataclasses import replace
from datetime import timedelta

from rinnovo.contracts.orders import OrderCancelled, OrderPlaced
from rinnovo.payments.domain.payments import Payment
from rinnovo.payments.domain.requests import holder_of, paid_in_full, payment_id_for, requested
from rinnovo.payments.integration_events import EventFactory
from rinnovo.payments.methods.base import (
    ChargesStoredMethod,
    HostedCheckout,
    PaymentMethod,
    PaymentRequest,
)
from rinnovo.payments.service_layer.context import Context
from rinnovo.runtime.changes import Decision, Missing, Stored
from rinnovo.runtime.dead_letters import PoisonMessage
from rinnovo.runtime.errors import Conflict, NotFound

CHECKOUT_MARGIN = timedelta(minutes=10)
"""A hosted session closer than this to its expiry is replaced by a fresh one."""


async def request_payment(ctx: Context, event: OrderPlaced) -> None:
    """The payment an order awaits, with its instructions, in one write with its event."""
    p = event.payload
    method = ctx.methods.get(p.payment_method)
    if method is None:
        known = ", ".join(ctx.methods.names())
        raise PoisonMessage(
            "unknown_payment_method", f"{p.payment_method!r} is not allowed here ({known})"
        )
    now = ctx.now()
    payment_id = payment_id_for(p.order_id)
    request = PaymentRequest(
        payment_id=payment_id,
        order_number=p.number,
        amount_cents=p.total_cents,
        due_date=p.payment_due,
        holder=holder_of(p),
        checkout_url=f"{ctx.policies.public_base_url}/v1/payments/{payment_id}/checkout",
    )
    payment = requested(
        p,
        method.name,
        method.instructions(request),
        method.usual_registration_days,
        isinstance(method, ChargesStoredMethod),
        now,
    )
    events = EventFactory(payment, 0, now, event).requested().events
    if (paid := paid_in_full(payment, now)) is not None:
        payment = paid
        events += EventFactory(paid, len(events), now, event).registered().events
    # None when it exists: a redelivery, or a concurrent one created it.
    await ctx.payments.create(payment_id, payment, events, cause=event)


async def void_payment(ctx: Context, event: OrderCancelled) -> None:
    """The order was cancelled before it was paid: its payment no longer takes money. A
    paid one stays as it is (orders refuses to apply it, and the money goes to review)."""

    def void(stored: Stored[Payment]) -> Decision[Payment] | None:
        if not stored.value.accepts_money:
            return None
        now = ctx.now()
        voided = stored.value.void(now)
        factory = EventFactory(voided, stored.version, now, event)
        factory.voided(f"order cancelled: {event.payload.reason.value}")
        return Decision(voided, factory.events)

    try:
        await ctx.payments.change(payment_id_for(event.payload.order_id), void, cause=event)
    except Missing:
        return  # never requested here (another method's order, or not yet consumed)


async def checkout_url(ctx: Context, payment_id: str) -> str:
    """The provider's page for this payment: the current session, or a fresh one."""
    read = await ctx.payments.get(payment_id)
    if read is None:
        raise NotFound(f"no payment {payment_id!r}")
    method = _payable(read.value, ctx.methods.get(read.value.method))
    current = read.value.checkout
    if current is not None and current.expires_at > ctx.now() + CHECKOUT_MARGIN:
        return current.url
    number = (current.created if current else 0) + 1
    # The same key for the same session number: two clicks get one session.
    session = await method.open_checkout(read.value, f"checkout-{payment_id}-{number}")

    def offer(stored: Stored[Payment]) -> Decision[Payment] | None:
        _payable(stored.value, method)
        held = stored.value.checkout
        if held is not None and held.created >= number:
            return None  # a session as new was stored meanwhile: that one is offered
        return Decision(replace(stored.value, checkout=replace(session, created=number)))

    changed = await ctx.payments.change(payment_id, offer, read=read)
    assert changed.value.checkout is not None
    return changed.value.checkout.url


def _payable(payment: Payment, method: object) -> HostedCheckout:
    if not payment.accepts_money:
        raise Conflict(f"the payment is {payment.status.value}: nothing to pay")
    if not isinstance(method, HostedCheckout):
        raise Conflict(f"{payment.method} is not paid on a provider's page")
    return method


async def payments_of(ctx: Context, customer_id: str, order_id: str | None) -> list[Payment]:
    """A customer's payments, newest first, or the one of their order."""
    if order_id is None:
        found = await ctx.payments.find(
            {"customer_id": customer_id}, sort=[("state.requested_at", -1)]
        )
        return [s.value for s in found]
    stored = await ctx.payments.get(payment_id_for(order_id))
    if stored is None or stored.value.customer_id != customer_id:
        return []
    return [stored.value]


async def payment_of_order(ctx: Context, number: str) -> Payment:
    found = await ctx.payment_of_order(number)
    if found is None:
        raise NotFound(f"no payment of order {number}")
    return found.value


def offered_methods(ctx: Context) -> list[PaymentMethod]:
    return ctx.methods.offered()
