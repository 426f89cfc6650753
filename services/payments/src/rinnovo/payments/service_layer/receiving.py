"""Money arriving for a payment, however it came (a statement, a provider, a charge):
registered at most once per movement of money, or opened as a review item.

The matching (``domain.matching``) decides on the payment as it is when written: on a
concurrent change it is read and decided again. The movement's ``source`` goes to the
payment's inbox with the registration, so the same money seen again changes nothing; a
review item's id names the money, so it opens once.
"""

from collections.abc import Callable
from dataclasses import dataclass

import structlog

from rinnovo.payments.domain.matching import (
    ALREADY_COUNTED,
    Decision,
    Incoming,
    ReviewReason,
    decide,
)
from rinnovo.payments.domain.payments import Payment, Registration
from rinnovo.payments.domain.reviews import MoneyContext, money_review
from rinnovo.payments.integration_events import EventFactory
from rinnovo.payments.service_layer.context import Context
from rinnovo.runtime import changes
from rinnovo.runtime.changes import Changed, Stored

log = structlog.get_logger(__name__)

Apply = Callable[[Stored[Payment], Decision], changes.Decision[Payment] | None]
"""What a use case writes of the money's decision on the payment as read (None: nothing)."""


@dataclass(frozen=True)
class Received:
    decision: Decision
    opened: bool
    """This opened a review item (it was not open already)."""


async def match(
    ctx: Context, read: Stored[Payment], incoming: Incoming, apply: Apply
) -> tuple[Decision, Changed[Payment]]:
    """Decide ``incoming`` against the payment and write what ``apply`` makes of it, at
    most once per ``incoming.source``; returns the decision the write was made on."""
    decided = ALREADY_COUNTED

    def decision(stored: Stored[Payment]) -> changes.Decision[Payment] | None:
        nonlocal decided
        decided = decide(stored.value, incoming)
        return apply(stored, decided)

    changed = await ctx.payments.change(read.id, decision, cause=incoming.source, read=read)
    return (ALREADY_COUNTED if changed.duplicate else decided), changed


async def receive(
    ctx: Context,
    read: Stored[Payment] | None,
    incoming: Incoming,
    kind: str,
    context: MoneyContext,
    forced: ReviewReason | None = None,
) -> Received:
    """Register money for the payment ``read`` (None: no payment is named) or open its
    review; ``forced`` sends it to review whatever it matches."""
    payment = read.value if read else None
    if forced is not None:
        decision = Decision(False, forced)
    elif read is None:
        decision = decide(None, incoming)
    else:

        def register(stored: Stored[Payment], d: Decision) -> changes.Decision[Payment] | None:
            return registered(ctx, stored, incoming, kind) if d.register else None

        decision, changed = await match(ctx, read, incoming, register)
        payment = changed.value
        if changed.written:
            log.info("payment registered", order=payment.order_number, source=incoming.source)
    opened = decision.review is not None and await open_review(
        ctx, decision, payment, incoming, context
    )
    return Received(decision, opened)


def registered(
    ctx: Context, stored: Stored[Payment], incoming: Incoming, kind: str
) -> changes.Decision[Payment]:
    now = ctx.now()
    payment = stored.value.register(Registration(incoming.source, kind, incoming.amount_cents, now))
    return changes.Decision(
        payment, EventFactory(payment, stored.version, now, None).registered().events
    )


async def open_review(
    ctx: Context,
    decision: Decision,
    payment: Payment | None,
    incoming: Incoming,
    context: MoneyContext,
) -> bool:
    """Open the review ``decision`` asks for; False when it was open already."""
    item = money_review(decision, payment, incoming, context, ctx.now())
    opened = await ctx.reviews.create(item.review_id, item) is not None
    if opened:
        log.warning("payment to review", reason=item.reason.value, source=incoming.source)
    return opened
