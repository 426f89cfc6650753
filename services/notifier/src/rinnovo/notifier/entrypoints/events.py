"""The notifier's subscriber: every consumed event goes to the one use case that turns
events into notifications; the delivery loops are woken when some were stored."""

from collections.abc import Callable

from rinnovo.contracts import Event
from rinnovo.notifier.service_layer import notifications
from rinnovo.notifier.service_layer.context import Context
from rinnovo.runtime.kafka import EventHandler


def on_event(ctx: Context, stored: Callable[[], None]) -> EventHandler:
    async def handle(event: Event) -> None:
        if await notifications.notify(ctx, event):
            stored()

    return handle
