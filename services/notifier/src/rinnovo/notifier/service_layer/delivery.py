"""One delivery attempt: claim the notification due soonest on a channel, send it once,
record the outcome with its event.

The claim (the runtime's scheduled work) counts the attempt and bumps the version, so a
claimer whose lease ran out loses its record to the replica that claimed after it, and an
attempt that never recorded its outcome (a crash) is still numbered. The outcome is one
version-guarded write carrying ``NotificationSent`` or ``NotificationFailed``.
"""

from datetime import datetime, timedelta

import stamina
import structlog

from rinnovo.contracts import Event
from rinnovo.notifier import integration_events
from rinnovo.notifier.channels.base import Channel, Delivery
from rinnovo.notifier.domain.delivery import Outcome, RetryLater, Status
from rinnovo.notifier.domain.notifications import Notification, attempted
from rinnovo.notifier.service_layer.context import Context
from rinnovo.runtime.changes import Changed, Decision, Stored
from rinnovo.runtime.dead_letters import is_transient

log = structlog.get_logger(__name__)


async def deliver_next(ctx: Context, channel: str, lease: timedelta) -> bool:
    """Attempt the notification due soonest on ``channel``; False when none is due."""
    claimed = await ctx.notifications.claim_next(
        ctx.clock.now(), lease, where={"channel": channel}, fence=True, count="attempts"
    )
    if claimed is None:
        return False
    await attempt(ctx, claimed, lease)
    return True


async def attempt(ctx: Context, claimed: Stored[Notification], lease: timedelta) -> None:
    n = claimed.value
    outcome = await _send(ctx.channels[n.channel], n)
    now = ctx.clock.now()
    after = attempted(n, outcome, ctx.retry, now)
    log.info(
        "delivery attempt",
        notification=n.notification_id,
        channel=n.channel,
        template=n.template,
        attempt=n.attempts,
        status=after.status.value,
        error=after.last_error,
    )
    recorded = await _record(ctx, claimed, after, _events(after, claimed.next_version, now), lease)
    if not recorded.written:
        log.warning("delivery claim was lost to another replica", notification=n.notification_id)


async def _send(channel: Channel, n: Notification) -> Outcome:
    delivery = Delivery(
        notification_id=n.notification_id,
        template=n.template,
        target=n.target,
        recipient_name=n.recipient_name,
        locale=n.locale,
        content=n.content,
        attempt=n.attempts,
    )
    try:
        return await channel.send(delivery)
    except Exception as exc:  # a channel's bug: retried like an outage, within the limit
        log.exception("channel failed unexpectedly", channel=n.channel)
        return RetryLater(f"{type(exc).__name__}: {exc}")


def _events(after: Notification, version: int, at: datetime) -> list[Event]:
    if after.status is Status.SENT:
        return [integration_events.notification_sent(after, version, at)]
    if after.status is Status.FAILED:
        reason = after.last_error or "failed"
        return [integration_events.notification_failed(after, reason, version, at)]
    return []


async def _record(
    ctx: Context,
    claimed: Stored[Notification],
    after: Notification,
    events: list[Event],
    lease: timedelta,
) -> Changed[Notification]:
    """Recording right after a send is what keeps a second send away: a database blip here
    is waited out (within the lease) rather than left to a later claim."""

    def decide(stored: Stored[Notification]) -> Decision[Notification] | None:
        # Changed since the claim: another replica claimed it after the lease ran out.
        return Decision(after, events) if stored.version == claimed.version else None

    @stamina.retry(
        on=is_transient,
        attempts=None,
        timeout=lease.total_seconds() / 2,
        wait_initial=0.05,
        wait_max=2.0,
    )
    async def write() -> Changed[Notification]:
        return await ctx.notifications.change(after.notification_id, decide, read=claimed)

    return await write()
