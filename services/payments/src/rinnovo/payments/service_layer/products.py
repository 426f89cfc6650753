"""The catalog's products as payments keeps them: for their automatic-renewal retries."""

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ProductSnapshotPublished
from rinnovo.payments.service_layer.context import Context


async def keep_product(ctx: Context, event: Event) -> None:
    """A snapshot from the compacted catalog topic; an older version changes nothing."""
    if isinstance(event, ProductSnapshotPublished):
        await ctx.products.apply(event.aggregate_id, event.aggregate_version, event.payload)


async def retry_days(ctx: Context, product_id: str) -> tuple[int, ...]:
    """After how many days each failed automatic-renewal charge is tried again."""
    product = await ctx.products.get(product_id)
    return product.policy.auto_renewal_retry_days if product else ctx.policies.default_retry_days
