"""The delivery loops: one per channel, sending what is due, outside the Kafka handlers.

Handlers only store pending notifications; these loops claim them one at a time with
``find_one_and_update`` on the indexed ``next_attempt_at`` (a lease keeps other replicas
off), make one attempt, and record its outcome with its event in one version-guarded write.
A channel that is slow or down (a webhook endpoint timing out) never delays another.
"""

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import stamina
import structlog

from rinnovo.contracts import Event
from rinnovo.notifier import integration_events
from rinnovo.notifier.adapters.repositories import Claimed, Notifications
from rinnovo.notifier.channels.base import Channel, Delivery
from rinnovo.notifier.domain.delivery import (
    Outcome,
    Refused,
    RetryLater,
    RetryPolicy,
    Sent,
    Status,
    after_attempt,
)
from rinnovo.notifier.domain.notifications import Attempt, Notification
from rinnovo.runtime import tracing
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.dead_letters import is_transient
from rinnovo.runtime.metrics import Metrics

log = structlog.get_logger(__name__)

Step = Callable[[], Coroutine[Any, Any, None]]
INTERRUPTED = "no outcome was recorded: the process stopped during this attempt"
COUNTED = {Status.SENT: "sent", Status.PENDING: "retried", Status.FAILED: "failed"}
"""An attempt's outcome as ``rinnovo_deliveries_total`` counts it."""


def with_attempt(
    n: Notification, outcome: Outcome, policy: RetryPolicy, now: datetime
) -> Notification:
    """The notification after its ``n.attempts``-th attempt ended with ``outcome``."""
    step = after_attempt(outcome, n.attempts, policy, now)
    history = list(n.history)
    recorded = history[-1].number if history else 0
    # Claimed attempts that never recorded an outcome (a crash): say so, in order.
    history += [
        Attempt(k, now, "interrupted", INTERRUPTED) for k in range(recorded + 1, n.attempts)
    ]
    match outcome:
        case Sent():
            name = "sent"
        case Refused():
            name = "refused"
        case RetryLater():
            name = "retry" if step.status is Status.PENDING else "gave_up"
    detail = outcome.detail if isinstance(outcome, Sent) else outcome.reason
    history.append(Attempt(n.attempts, now, name, detail, outcome.status_code))
    return replace(
        n,
        status=step.status,
        next_attempt_at=step.next_attempt_at,
        last_error=step.error,
        sent_at=now if step.status is Status.SENT else n.sent_at,
        failed_at=now if step.status is Status.FAILED else n.failed_at,
        history=tuple(history),
    )


class Deliverer:
    def __init__(
        self,
        notifications: Notifications,
        channels: Mapping[str, Channel],
        clock: Clock,
        policy: RetryPolicy,
        *,
        lease: timedelta,
        poll_seconds: float,
        batch: int = 100,
        on_events: Callable[[], None] = lambda: None,
        metrics: Metrics | None = None,
    ) -> None:
        self.notifications = notifications
        self.channels = channels
        self.clock = clock
        self.policy = policy
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._on_events = on_events
        self._metrics = metrics
        self._wake = {name: asyncio.Event() for name in channels}

    def wake(self) -> None:
        """New notifications were stored: look now rather than at the next poll."""
        for event in self._wake.values():
            event.set()

    def loops(self) -> list[Step]:
        return [self._loop_of(name) for name in self.channels]

    def _loop_of(self, name: str) -> Step:
        async def run() -> None:
            await self.run(name)

        run.__qualname__ = f"deliver:{name}"
        return run

    async def run(self, channel: str) -> None:
        wake = self._wake[channel]
        while True:
            wake.clear()
            try:
                done = await self.deliver_due(channel)
            except Exception:
                log.warning("delivery sweep failed; retrying", channel=channel, exc_info=True)
                done = 0
            if done < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self.poll_seconds)

    async def deliver_due(self, channel: str) -> int:
        """Attempt what is due on one channel now, up to a batch; returns how many."""
        done = 0
        while done < self.batch:
            claimed = await self.notifications.claim_due(channel, self.clock.now(), self.lease)
            if claimed is None:
                break
            await self.attempt(claimed)
            done += 1
        return done

    async def attempt(self, claimed: Claimed) -> None:
        n = claimed.notification
        # A span of the trace the notification was stored in (the event that asked for it).
        with tracing.resumed(
            claimed.trace, f"deliver {n.channel}", template=n.template, attempt=n.attempts
        ):
            await self._attempt(claimed)

    async def _attempt(self, claimed: Claimed) -> None:
        n = claimed.notification
        channel = self.channels[n.channel]
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
            outcome = await channel.send(delivery)
        except Exception as exc:  # a channel's bug: retried like an outage, within the limit
            log.exception("channel failed unexpectedly", channel=n.channel)
            outcome = RetryLater(f"{type(exc).__name__}: {exc}")
        now = self.clock.now()
        after = with_attempt(n, outcome, self.policy, now)
        if self._metrics is not None:
            self._metrics.deliveries.labels(n.channel, COUNTED[after.status]).inc()
        version = claimed.version + 1
        events: list[Event] = []
        if after.status is Status.SENT:
            events.append(integration_events.notification_sent(after, version, now))
        elif after.status is Status.FAILED:
            reason = after.last_error or "failed"
            events.append(integration_events.notification_failed(after, reason, version, now))
        log.info(
            "delivery attempt",
            notification=n.notification_id,
            channel=n.channel,
            template=n.template,
            attempt=n.attempts,
            status=after.status.value,
            error=after.last_error,
        )
        try:
            await self._record(claimed, after, events)
        except VersionConflict:
            log.warning(
                "delivery claim was lost to another replica", notification=n.notification_id
            )
            return
        if events:
            self._on_events()

    async def _record(self, claimed: Claimed, after: Notification, events: list[Event]) -> None:
        # Recording right after a send is what keeps a second send away: a database blip
        # here is waited out (within the lease) rather than left to a later re-claim.
        async for attempt in stamina.retry_context(
            on=is_transient,
            attempts=None,
            timeout=self.lease.total_seconds() / 2,
            wait_initial=0.05,
            wait_max=2.0,
        ):
            with attempt:
                await self.notifications.record(claimed, after, events)
