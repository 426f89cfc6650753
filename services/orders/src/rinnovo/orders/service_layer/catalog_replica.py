"""The catalog's snapshots kept in this service's own replica (orders never calls the
catalog in the order flow); each carries its version, so a redelivery changes nothing."""

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ConventionCodeSnapshotPublished, ProductSnapshotPublished
from rinnovo.orders.service_layer.context import Context


async def keep_snapshot(ctx: Context, event: Event) -> None:
    if isinstance(event, ProductSnapshotPublished):
        await ctx.products.apply(event.aggregate_id, event.aggregate_version, event.payload)
    elif isinstance(event, ConventionCodeSnapshotPublished):
        await ctx.codes.apply(event.aggregate_id, event.aggregate_version, event.payload)
