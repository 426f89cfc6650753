"""Storage usage reported by the panel, and the warning when it goes above the threshold."""

from dataclasses import replace

from rinnovo.contracts import Event
from rinnovo.contracts.panel import UsageReported
from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.handlers import OrdersApp
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.dead_letters import PoisonMessage


def above(service: Subscription, threshold_percent: int) -> bool:
    return service.used_bytes * 100 > threshold_percent * service.quota_bytes


class UsageRecorder:
    def __init__(self, app: OrdersApp) -> None:
        self.app = app

    async def on_usage_event(self, event: Event) -> None:
        if isinstance(event, UsageReported):
            await self._record_usage(event)

    async def _record_usage(self, event: UsageReported) -> None:
        """Keep the latest measure; announce each upward crossing of the storage threshold."""
        p = event.payload
        event_id = str(event.event_id)
        while True:
            stored = await self.app.subscriptions.get(p.service_id)
            if stored is None:
                raise PoisonMessage("unknown_service", f"usage of unknown service {p.service_id}")
            before = stored.value
            if event_id in stored.inbox or (
                before.usage_measured_at is not None and p.measured_at <= before.usage_measured_at
            ):
                return  # already seen, or older than what we hold
            threshold = (await self.app.product(before.product_id)).policy.storage_warning_percent
            after = replace(before, used_bytes=p.used_bytes, usage_measured_at=p.measured_at)
            emitted: list[Event] = []
            if above(after, threshold) and not above(before, threshold):
                emitted.append(
                    events.storage_threshold_crossed(
                        after, threshold, stored.version + 1, self.app.clock.now(), event
                    )
                )
            try:
                await self.app.write_service(stored, after, emitted, event_id)
            except VersionConflict:
                continue
            self.app.events_written()
            return
