"""Storage usage reported by the panel: the latest measure kept, each upward crossing of the
storage threshold announced."""

from rinnovo.contracts.panel import UsageReported
from rinnovo.orders import integration_events as events
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.domain.usage import measured
from rinnovo.orders.service_layer.context import Context, service_change
from rinnovo.runtime.changes import Decision, Stored
from rinnovo.runtime.dead_letters import PoisonMessage


async def record_usage(ctx: Context, event: UsageReported) -> None:
    p = event.payload
    read = await ctx.services.get(p.service_id)
    if read is None:
        raise PoisonMessage("unknown_service", f"usage of unknown service {p.service_id}")
    policy = await ctx.policy(read.value.product_id)
    threshold = policy.storage_warning_percent
    now = ctx.now()

    def decide(stored: Stored[Subscription]) -> Decision[Subscription] | None:
        measure = measured(stored.value, p.used_bytes, p.measured_at, threshold)
        if measure is None:
            return None  # older than what is held
        after = measure.service
        emitted = []
        if measure.crossed:
            emitted.append(
                events.storage_threshold_crossed(after, threshold, stored.next_version, now, event)
            )
        return service_change(after, emitted, policy)

    await ctx.services.change(p.service_id, decide, cause=event, read=read)
