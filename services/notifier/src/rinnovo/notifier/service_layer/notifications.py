"""Consumed events become stored notifications, one per channel and target.

Storing is idempotent by construction: a notification's id is derived from its cause, so a
redelivered event finds its notifications already there and stores nothing. Delivering is
the delivery loops' job (``delivery``), outside the Kafka handler's critical path.
"""

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.orders import OrderPlaced
from rinnovo.notifier.channels.base import Channel
from rinnovo.notifier.domain.compose import compose, known_order, order_to_look_up
from rinnovo.notifier.domain.identity import notification_id
from rinnovo.notifier.domain.messages import CannotNotify, Message
from rinnovo.notifier.domain.notifications import Target, pending
from rinnovo.notifier.service_layer.context import Context
from rinnovo.runtime.dead_letters import PoisonMessage

log = structlog.get_logger(__name__)


async def notify(ctx: Context, event: Event) -> int:
    """Store the notifications ``event`` causes (none for most events); returns how many
    were new. An event that asks for a message that cannot be written is poison."""
    if isinstance(event, OrderPlaced):
        await ctx.orders.remember(known_order(event))
    order_id = order_to_look_up(event)
    order = await ctx.orders.get(order_id) if order_id else None
    try:
        message = compose(event, order=order, default_locale=ctx.default_locale)
        return 0 if message is None else await _store(ctx, message)
    except CannotNotify as exc:
        raise PoisonMessage(exc.kind, exc.reason) from exc


async def _store(ctx: Context, message: Message) -> int:
    wanted: dict[str, tuple[Channel, Target]] = {}
    for channel in ctx.channels.values():
        for target in await channel.targets(message):
            nid = notification_id(
                message.cause.event_id, channel.name, message.template.value, target.key
            )
            wanted[nid] = (channel, target)
    # A redelivery finds them stored (and maybe sent) already: one read for all of them.
    stored = await ctx.notifications.store.load(list(wanted))
    new = 0
    for nid, (channel, target) in wanted.items():
        if nid in stored:
            continue
        content = channel.prepare(message, nid, target)
        notification = pending(message, nid, channel.name, target, content, ctx.clock.now())
        if await ctx.notifications.create(nid, notification) is not None:
            new += 1
            log.info(
                "notification stored",
                notification=nid,
                channel=channel.name,
                template=message.template.value,
                locale=message.recipient.locale,
            )
    return new
