"""Orders use cases."""

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ConventionCodeSnapshotPublished, ProductSnapshotPublished
from rinnovo.orders.adapters.catalog_replica import CodeReplica, ProductReplica


async def on_product_snapshot(event: Event, replica: ProductReplica) -> None:
    if isinstance(event, ProductSnapshotPublished):
        await replica.apply(event.aggregate_id, event.aggregate_version, event.payload)


async def on_code_snapshot(event: Event, replica: CodeReplica) -> None:
    if isinstance(event, ConventionCodeSnapshotPublished):
        await replica.apply(event.aggregate_id, event.aggregate_version, event.payload)
