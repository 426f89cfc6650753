"""Scheduled work: service milestones and the unpaid-order timeout.

Every write of a service or an order sets its ``next_due_at`` and first notes it in the
agenda (``adapters/agenda.py``). A sweep reads the agenda's pages since the last sweep, by
``_id``, so it costs what falls due, not what is stored. The full query on ``next_due_at``
runs at start, after the clock jumps (time travel, a long downtime) and every
``full_sweep_seconds``: it finds whatever the notes missed (a replica that died holding a
claim, a note written onto a page already left behind), so nothing due is ever lost.

Each due aggregate is claimed by id with ``find_one_and_update`` (other replicas skip it
while the claim lasts) and then changed by the same version-guarded write as any other
change, which also carries its events: even if a claim expired and two replicas raced, only
one write, and so one event, would win.
"""

import contextlib
import time
from datetime import datetime, timedelta

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders import integration_events as events
from rinnovo.orders.adapters.agenda import MINUTE, Agenda, minute_of
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


GRACE = 2 * MINUTE
"""Pages this far behind the clock are read again: a note whose write was still under way
when its page was read is found by the next sweep."""
MAX_PAGES = 60
"""Further behind than this (the clock jumped, the service was down), one full query costs
less than reading page by page."""
KEEP = 2 * MAX_PAGES * MINUTE
"""Pages are deleted once this old, when no replica can still be reading them."""


class Scheduler:
    def __init__(
        self,
        app: OrdersApp,
        *,
        interval_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        batch: int = 1000,
        full_sweep_seconds: float = 600.0,
    ) -> None:
        self.app = app
        self.lease = lease
        self.batch = batch
        self.full_sweep_seconds = full_sweep_seconds
        self._loop = SweepLoop(
            self.sweep, name="milestones", interval_seconds=interval_seconds, batch=batch
        )
        self.run = self._loop.run
        self.wake = self._loop.wake
        """Sweep now (the clock moved, in demos and tests)."""
        self._read_from: datetime | None = None
        """The first agenda page not left behind; None until a full sweep has run."""
        self._tried: dict[datetime, set[str]] = {}
        """Per page, the notes taken already (or skipped): not claimed again each sweep."""
        self._full_sweep_at = 0.0

    async def sweep(self) -> int:
        """Handle what is due now, up to a batch; returns how many aggregates were handled."""
        now = self.app.clock.now()
        if self._agenda_covers(now):
            handled = await self.sweep_agenda(now)
        else:
            handled = await self.sweep_all(now)
        if handled:
            self.app.events_written()
        return handled

    def _agendas(self) -> tuple[Agenda, Agenda] | None:
        services, orders = self.app.subscriptions.agenda, self.app.orders.agenda
        return None if services is None or orders is None else (services, orders)

    def _agenda_covers(self, now: datetime) -> bool:
        return (
            self._read_from is not None
            and self._agendas() is not None
            and time.monotonic() < self._full_sweep_at
            and minute_of(now) - self._read_from <= MAX_PAGES * MINUTE
        )

    async def sweep_all(self, now: datetime) -> int:
        """The full query on ``next_due_at``."""
        handled = 0
        services, orders = self.app.subscriptions, self.app.orders
        for service_id in await services.due(now, self.batch):
            handled += await self._take_service(service_id, now)
        for order_id in await orders.due(now, self.batch - handled):
            handled += await self._take_order(order_id, now)
        if handled < self.batch:  # all that is due at ``now`` was seen: notes take over
            self._read_from = minute_of(now) - GRACE
            self._tried.clear()
            self._full_sweep_at = time.monotonic() + self.full_sweep_seconds
        return handled

    async def sweep_agenda(self, now: datetime) -> int:
        """The agenda's pages from the first minute not left behind up to ``now``."""
        agendas, first = self._agendas(), self._read_from
        assert agendas is not None and first is not None
        minutes = [first + k * MINUTE for k in range((minute_of(now) - first) // MINUTE + 1)]
        services, orders = agendas
        takes = (
            (services.kind, await services.read(minutes), self._take_service),
            (orders.kind, await orders.read(minutes), self._take_order),
        )
        handled = 0
        for minute in minutes:
            tried = self._tried.setdefault(minute, set())
            for kind, pages, take in takes:
                for note in pages[minute]:
                    key = f"{kind}:{note.aggregate_id}"
                    if note.due_at > now or key in tried or handled >= self.batch:
                        continue
                    tried.add(key)
                    handled += await take(note.aggregate_id, now)
        if handled < self.batch:
            self._read_from = max(first, minute_of(now) - GRACE)
            for left in [m for m in self._tried if m < self._read_from]:
                del self._tried[left]
                for agenda in agendas:
                    await agenda.forget(left - KEEP)
        return handled

    async def _take_service(self, service_id: str, now: datetime) -> bool:
        if not await self.app.subscriptions.claim(service_id, now, self.lease):
            return False  # not due any more, or another replica has it
        await self.advance_service(service_id, now)
        return True

    async def _take_order(self, order_id: str, now: datetime) -> bool:
        if not await self.app.orders.claim(order_id, now, self.lease):
            return False
        await self.cancel_if_unpaid(order_id, now)
        return True

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
