"""Review items: money an operator must look at, opened by the other use cases and by
orders refusing a payment, and resolved by an operator (register, refund or dismiss).

A resolution is stored first, then its effect on the payment follows, once (the payment's
inbox remembers the review); a crash between the two is finished by the scheduler.
"""

import contextlib
from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from rinnovo.contracts.orders import OrderPaymentRefused
from rinnovo.payments.domain.payments import Payment, Registration
from rinnovo.payments.domain.reviews import (
    Action,
    CannotResolve,
    Resolution,
    ReviewItem,
    ReviewStatus,
    refused_review,
)
from rinnovo.payments.integration_events import EventFactory
from rinnovo.payments.service_layer.context import Context
from rinnovo.runtime.changes import Decision, Missing, Stored
from rinnovo.runtime.errors import Conflict, Invalid, NotFound

log = structlog.get_logger(__name__)

INTERRUPTED_AFTER = timedelta(minutes=1)
"""A resolution still without its effect this long after is taken as interrupted."""


async def payment_refused(ctx: Context, event: OrderPaymentRefused) -> None:
    """Orders could not apply a registered payment: the money goes to review."""
    p = event.payload
    read = await ctx.payments.get(p.payment_id)
    item = refused_review(
        p.payment_id,
        p.order_id,
        p.number,
        p.amount_cents,
        p.reason.value,
        read.value if read else None,
        ctx.now(),
    )
    await ctx.reviews.create(item.review_id, item)


async def review_items(ctx: Context, status: ReviewStatus | None) -> list[ReviewItem]:
    where = {} if status is None else {"status": status.value}
    found = await ctx.reviews.find(where, sort=[("opened_at", 1), ("_id", 1)], limit=500)
    return [s.value for s in found]


async def resolve_review(
    ctx: Context,
    review_id: str,
    action: Action,
    by: str,
    note: str,
    order_number: str | None,
) -> ReviewItem:
    """Store an operator's resolution, then apply it; reopened if it cannot take effect."""
    read = await ctx.reviews.get(review_id)
    if read is None:
        raise NotFound(f"no review item {review_id!r}")
    resolution = Resolution(action, by, ctx.now(), note, order_number)
    resolved = _resolved(read.value, resolution)
    if action is Action.REGISTER:
        _payable(await _register_target(ctx, resolved))
    changed = await ctx.reviews.change(
        review_id, lambda s: Decision(_resolved(s.value, resolution)), read=read
    )
    try:
        await apply_resolution(ctx, changed.stored)
    except Conflict:
        await ctx.reviews.change(review_id, lambda s: Decision(s.value.reopened()))
        raise
    return replace(changed.value, applied=True)


def _resolved(item: ReviewItem, resolution: Resolution) -> ReviewItem:
    if item.status is not ReviewStatus.OPEN:
        raise Conflict(f"review item {item.review_id} is already resolved")
    try:
        return item.resolve(resolution)
    except CannotResolve as exc:
        raise Invalid("action", str(exc)) from exc


def _payable(target: Stored[Payment]) -> Payment:
    if not target.value.accepts_money:
        raise Conflict(f"order {target.value.order_number} is {target.value.status.value}")
    return target.value


async def _register_target(ctx: Context, item: ReviewItem) -> Stored[Payment]:
    number = (item.resolution and item.resolution.order_number) or item.order_number
    target = await ctx.payment_of_order(number or "")
    if target is None:
        raise Invalid("order_number", f"no payment awaits order {number!r}")
    return target


async def apply_resolution(ctx: Context, item: Stored[ReviewItem]) -> None:
    """The effect of a stored resolution, once (the payment's inbox remembers it)."""
    resolution = item.value.resolution
    assert resolution is not None
    cause = f"review:{item.id}"
    if resolution.action is Action.REGISTER:
        await _register_by_operator(ctx, item.value, cause)
    elif resolution.action is Action.REFUND:
        await _refund(ctx, item.value, cause)

    def applied(stored: Stored[ReviewItem]) -> Decision[ReviewItem] | None:
        return None if stored.value.applied else Decision(replace(stored.value, applied=True))

    await ctx.reviews.change(item.id, applied, read=item)


async def _register_by_operator(ctx: Context, item: ReviewItem, cause: str) -> None:
    target = await _register_target(ctx, item)

    def register(stored: Stored[Payment]) -> Decision[Payment]:
        now = ctx.now()
        registration = Registration(item.source, "operator", item.amount_cents, now)
        registered = _payable(stored).register(registration)
        events = EventFactory(registered, stored.version, now, None).registered().events
        return Decision(registered, events)

    await ctx.payments.change(target.id, register, cause=cause, read=target)


async def _refund(ctx: Context, item: ReviewItem, cause: str) -> None:
    """Refund through the provider that took the money; bank money is sent back by the
    operator, and recorded here. With an order, ``PaymentRefunded`` tells accounting."""
    provider_name, _, reference = item.source.partition(":")
    refunder = ctx.methods.refunder(provider_name)
    if refunder is not None:
        await refunder.refund(reference, item.refund_cents, f"refund-{item.review_id}")
    if item.payment_id is None:
        return

    def refund(stored: Stored[Payment]) -> Decision[Payment]:
        now = ctx.now()
        refunded = stored.value.refund(item.refund_cents)
        factory = EventFactory(refunded, stored.version, now, None)
        factory.refunded(item.refund_cents, item.reason.value)
        return Decision(refunded, factory.events)

    with contextlib.suppress(Missing):
        await ctx.payments.change(item.payment_id, refund, cause=cause)


async def finish_resolutions(ctx: Context, now: datetime) -> int:
    """Apply resolutions a crash interrupted after they were stored."""
    where = {"status": ReviewStatus.RESOLVED.value, "applied": False}
    found = await ctx.reviews.find(where, limit=100)
    left = [s for s in found if s.value.left_unapplied(now - INTERRUPTED_AFTER)]
    for item in left:
        try:
            await apply_resolution(ctx, item)
        except Conflict:
            log.error("a resolution cannot be applied", review=item.id)
    return len(left)
