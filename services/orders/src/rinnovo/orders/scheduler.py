"""Scheduled work: service milestones and the unpaid-order timeout.

Work is found through the indexed ``next_due_at`` that every write of a service or an order
sets, so a sweep costs what is due, not what exists. Each due aggregate is claimed by id
with ``find_one_and_update`` (other replicas skip it while the claim lasts) and then changed by
the same version-guarded write as any other change, which also carries its events: even if a
claim expired and two replicas raced, only one write, and so one event, would win.
"""

import contextlib
from datetime import datetime, timedelta

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders import integration_events as events
from rinnovo.orders.automatic_renewal import place_automatic_renewal
from rinnovo.orders.domain.lifecycle import Step, next_step
from rinnovo.orders.domain.orders import OrderConflict
from rinnovo.orders.domain.schedule import MilestoneKind, reactivation_deadline
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.handlers import OrdersApp
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.clock import rome_date
from rinnovo.runtime.sweeps import SweepLoop

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
        self.lease = lease
        self.batch = batch
        self._loop = SweepLoop(
            self.sweep, name="milestones", interval_seconds=interval_seconds, batch=batch
        )
        self.run = self._loop.run
        self.wake = self._loop.wake
        """Sweep now (the clock moved, in demos and tests)."""

    async def sweep(self) -> int:
        """Handle what is due now, up to a batch; returns how many aggregates were handled."""
        now = self.app.clock.now()
        handled = 0
        services, orders = self.app.subscriptions, self.app.orders
        for service_id in await services.due(now, self.batch):
            if await services.claim(service_id, now, self.lease):
                await self.advance_service(service_id, now)
                handled += 1
        for order_id in await orders.due(now, self.batch - handled):
            if await orders.claim(order_id, now, self.lease):
                await self.cancel_if_unpaid(order_id, now)
                handled += 1
        if handled:
            self.app.events_written()
        return handled

    async def advance_service(self, service_id: str, now: datetime) -> None:
        """Take every milestone due at ``now``, in time order, in one write."""
        app = self.app
        while True:
            stored = await app.subscriptions.get(service_id)
            if stored is None:
                return
            service = stored.value
            policy = (await app.product(service.product_id)).policy
            version = stored.version
            emitted: list[Event] = []
            while (step := next_step(service, policy, now)) is not None:
                if step.place_automatic_renewal:
                    await place_automatic_renewal(app, service, now)
                elif step.announce:
                    version += 1
                    emitted.append(self._announcement(step, service, policy, version, now))
                service = step.service
            try:
                # Also when nothing was due (a payment moved the expiry): it reschedules.
                await app.write_service(stored, service, emitted)
            except VersionConflict:
                continue  # changed meanwhile (a payment?): decide again on the new state
            return

    @staticmethod
    def _announcement(
        step: Step, before: Subscription, policy: ProductPolicy, version: int, now: datetime
    ) -> Event:
        milestone, after = step.milestone, step.service
        assert before.expiry_date is not None
        deadline = reactivation_deadline(before.expiry_date, policy)
        match milestone.kind:
            case MilestoneKind.REMINDER:
                # Told as it is today: a reminder taken late (downtime, an import close to
                # expiry) does not announce the days its milestone was named after.
                days_left = max((before.expiry_date - rome_date(now)).days, 0)
                return events.service_expiring(after, days_left, version, now)
            case MilestoneKind.EXPIRY:
                return events.service_expired(after, deadline, version, now)
            case MilestoneKind.WINDOW_CLOSING:
                days_left = max((deadline - rome_date(now)).days, 0)
                return events.window_closing(after, deadline, days_left, version, now)
            case MilestoneKind.DEACTIVATION:
                return events.service_deactivated(after, version, now)
        raise AssertionError(f"no announcement for {milestone.kind}")

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
