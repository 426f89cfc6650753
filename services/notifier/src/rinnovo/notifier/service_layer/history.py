"""The notifications sent: a customer's own e-mails, and everything for operators."""

from datetime import datetime

from rinnovo.notifier.domain.notifications import Audience, Notification
from rinnovo.notifier.service_layer.context import Context
from rinnovo.notifier.service_layer.ports import Search
from rinnovo.runtime.errors import NotFound


async def customer_history(
    ctx: Context, customer_id: str, before: datetime | None, limit: int
) -> list[Notification]:
    return await ctx.history.search(
        Search(
            customer_id=customer_id, audience=Audience.CUSTOMER.value, before=before, limit=limit
        )
    )


async def customer_notification(ctx: Context, customer_id: str, nid: str) -> Notification:
    """One of the customer's own messages; anyone else's is as if it did not exist."""
    found = await ctx.notifications.get(nid)
    if (
        found is None
        or found.value.customer_id != customer_id
        or found.value.audience is not Audience.CUSTOMER
    ):
        raise NotFound(f"no notification {nid!r}")
    return found.value


async def search_notifications(ctx: Context, search: Search) -> list[Notification]:
    return await ctx.history.search(search)


async def notification(ctx: Context, nid: str) -> Notification:
    found = await ctx.notifications.get(nid)
    if found is None:
        raise NotFound(f"no notification {nid!r}")
    return found.value
