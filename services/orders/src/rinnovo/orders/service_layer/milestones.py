"""Scheduled milestones of a service: reminders, automatic renewal's notice and charge,
expiry, the reactivation window's warning and deactivation, each announced once (see
``docs/lifecycle.md``)."""

import functools
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.orders import milestone_events
from rinnovo.orders.domain.lifecycle import Step, due_steps
from rinnovo.orders.domain.pricing import QuoteRefused
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.service_layer.automatic_renewal import place_automatic_renewal
from rinnovo.orders.service_layer.context import Context, service_change
from rinnovo.runtime.changes import Decision, Stored
from rinnovo.runtime.together import run_together

log = structlog.get_logger(__name__)


async def due_services(ctx: Context, now: datetime, limit: int) -> list[str]:
    return await ctx.services.due(now, limit)


async def take_services(
    ctx: Context, service_ids: Sequence[str], now: datetime, lease: timedelta
) -> int:
    """Claim those of the services that have a milestone due (other replicas skip them while
    the claim lasts) and take every milestone due at ``now`` of each, in time order, in one
    write per service: all of them together, so that their reads are one query per store
    and their writes one bulk write per store. Returns how many were claimed."""
    claimed = await ctx.services.claim_all(service_ids, now, lease)
    again = await run_together({s.id: [functools.partial(_take, ctx, s, now)] for s in claimed})
    for stored in claimed:
        if stored.id in again:  # alone: read and decided again if it moved meanwhile
            await _take(ctx, stored, now)
    return len(claimed)


async def _take(ctx: Context, claimed: Stored[Subscription], now: datetime) -> None:
    product = await ctx.product(claimed.value.product_id)
    policy = product.policy

    async def place_renewals(stored: Stored[Subscription]) -> None:
        # Before the write that marks its milestone done, so a crash never loses one.
        for step in due_steps(stored.value, policy, now):
            if step.place_automatic_renewal:
                await place_automatic_renewal(ctx, step.service, now)

    def decide(stored: Stored[Subscription]) -> Decision[Subscription]:
        service, version = stored.value, stored.version
        emitted: list[Event] = []
        for step in due_steps(service, policy, now):
            if step.announce and not step.place_automatic_renewal:
                event = _announced(step, service, product, version + 1, now)
                if event is not None:
                    version += 1
                    emitted.append(event)
            service = step.service
        # Also when nothing was due (a payment moved the expiry): it reschedules.
        return service_change(service, emitted, policy)

    await ctx.services.change(claimed.id, decide, read=claimed, before=place_renewals)


def _announced(
    step: Step, before: Subscription, product: ProductSnapshot, version: int, now: datetime
) -> Event | None:
    try:
        return milestone_events.milestone_announced(step, before, product, version, now)
    except QuoteRefused as refused:  # the charge cannot be priced either: it logs it too
        log.error(
            "automatic renewal notice cannot be priced",
            service=before.subscription_id,
            reason=str(refused),
        )
        return None
