"""Scheduled work: service milestones and the unpaid-order timeout.

Work is found through the indexed ``next_due_at`` that every write of a service or an order
sets, so a sweep costs what is due, not what exists. Each due aggregate is claimed with
``find_one_and_update`` (other replicas skip it while the claim lasts) and then changed by
the same version-guarded write as any other change, which also carries its events: even if a
claim expired and two replicas raced, only one write, and so one event, would win.
"""

import asyncio
import contextlib
from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from rinnovo.contracts import Event
from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.lifecycle import next_step
from rinnovo.orders.domain.orders import OrderConflict
from rinnovo.orders.domain.schedule import MilestoneKind, reactivation_deadline
from rinnovo.orders.handlers import OrdersApp
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.clock import rome_date

log = structlog.get_logger(__name__)


class Scheduler:
    def __init__(
        self,
        app: OrdersApp,
        *,
        interval_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 1000,
    ) -> None:
        self.app = app
        self.interval_seconds = interval_seconds
        self.lease = lease
        self.batch = batch
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Sweep now (the clock moved, in demos and tests)."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                done = await self.sweep()
            except Exception:
                log.warning("scheduler sweep failed; retrying", exc_info=True)
                done = 0
            if done < self.batch:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval_seconds)

    async def sweep(self) -> int:
        """Handle what is due now, up to a batch; returns how many aggregates were handled."""
        now = self.app.clock.now()
        handled = 0
        while handled < self.batch:
            service_id = await self.app.subscriptions.claim_due(now, self.lease)
            if service_id is None:
                break
            await self.advance_service(service_id, now)
            handled += 1
        while handled < self.batch:
            order_id = await self.app.orders.claim_due(now, self.lease)
            if order_id is None:
                break
            await self.cancel_if_unpaid(order_id, now)
            handled += 1
        if handled:
            self.app.events_written()
        return handled

    async def advance_service(self, service_id: str, now: datetime) -> None:
        """Take every milestone due at ``now``, one write each, in time order."""
        app = self.app
        while True:
            stored = await app.subscriptions.get(service_id)
            if stored is None:
                return
            service = stored.value
            policy = (await app.product(service.product_id)).policy
            step = next_step(service, policy, now)
            if step is None:
                # Nothing due (a payment moved the expiry meanwhile): reschedule only.
                with contextlib.suppress(VersionConflict):
                    await app.write_service(stored, service, [])
                return
            milestone, after = step.milestone, step.service
            version = stored.version + 1
            emitted: list[Event] = []
            if step.place_automatic_renewal:
                await app.place_automatic_renewal(service, now)
            elif step.announce:
                assert service.expiry_date is not None
                deadline = reactivation_deadline(service.expiry_date, policy)
                match milestone.kind:
                    case MilestoneKind.REMINDER:
                        emitted.append(
                            events.service_expiring(after, milestone.days_before, version, now)
                        )
                    case MilestoneKind.EXPIRY:
                        emitted.append(events.service_expired(after, deadline, version, now))
                    case MilestoneKind.WINDOW_CLOSING:
                        days_left = (deadline - rome_date(now)).days
                        emitted.append(
                            events.window_closing(after, deadline, max(days_left, 0), version, now)
                        )
                    case MilestoneKind.DEACTIVATION:
                        emitted.append(events.service_deactivated(after, version, now))
            try:
                await app.write_service(stored, replace(after), emitted)
            except VersionConflict:
                continue  # changed meanwhile (a payment?): decide again on the new state

    async def cancel_if_unpaid(self, order_id: str, now: datetime) -> None:
        app = self.app
        while True:
            stored = await app.orders.get(order_id)
            if stored is None:
                return
            order = stored.value
            due = order.cancel_unpaid_at
            if due is None or due > now:
                with contextlib.suppress(VersionConflict):
                    await app.orders.save(order_id, order, stored.version)  # reschedule
                return
            try:
                cancelled = order.cancel(now, "not_paid")
            except OrderConflict:
                return
            service = await app.subscriptions.get(order.subscription_id)
            assert service is not None
            event = events.order_cancelled(
                cancelled, service.value, stored.version + 1, now, order_id
            )
            try:
                await app.orders.save(order_id, cancelled, stored.version, [event])
            except VersionConflict:
                continue  # paid meanwhile? decide again
            return
