"""Notifier use cases: store the notifications an event causes; history; webhook endpoints.

Storing is idempotent by construction: a notification's id is derived from its cause, so a
redelivered event finds its notifications already there and stores nothing. Delivering is
the delivery loops' job (``deliverer.py``), outside the Kafka handler's critical path.
"""

import secrets
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.orders import OrderPlaced
from rinnovo.notifier.adapters.repositories import Endpoints, KnownOrders, Notifications, Search
from rinnovo.notifier.channels.base import Channel
from rinnovo.notifier.domain.compose import compose, known_order, order_to_look_up
from rinnovo.notifier.domain.endpoints import Endpoint, check_events, check_url
from rinnovo.notifier.domain.identity import notification_id
from rinnovo.notifier.domain.messages import CannotNotify, Message, Template, jsonable
from rinnovo.notifier.domain.notifications import Audience, Notification, Target
from rinnovo.notifier.errors import NotFound
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.dead_letters import PoisonMessage

log = structlog.get_logger(__name__)

MESSAGE_TYPES = {t.value for t in Template}


class NotifierApp:
    def __init__(
        self,
        *,
        notifications: Notifications,
        orders: KnownOrders,
        endpoints: Endpoints,
        channels: Mapping[str, Channel],
        clock: Clock,
        default_locale: str,
        allow_plain_http: bool = False,
        on_stored: Callable[[], None] = lambda: None,
    ) -> None:
        self.notifications = notifications
        self.orders = orders
        self.endpoints = endpoints
        self.channels = channels
        self.clock = clock
        self.default_locale = default_locale
        self.allow_plain_http = allow_plain_http
        self._on_stored = on_stored

    # -- consumed events ---------------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        """Every consumed event: the ones that tell a customer something become notifications;
        the rest are acknowledged and ignored."""
        if isinstance(event, OrderPlaced):
            await self.orders.remember(known_order(event))
        order_id = order_to_look_up(event)
        order = await self.orders.get(order_id) if order_id else None
        try:
            message = compose(event, order=order, default_locale=self.default_locale)
            if message is None:
                return
            stored = await self._store(message)
        except CannotNotify as exc:
            raise PoisonMessage(exc.kind, exc.reason) from exc
        if stored:
            self._on_stored()

    async def _store(self, message: Message) -> int:
        stored = 0
        for channel in self.channels.values():
            for target in await channel.targets(message):
                nid = notification_id(
                    message.cause.event_id, channel.name, message.template.value, target.key
                )
                if await self.notifications.exists(nid):
                    continue  # a redelivery: stored (and maybe sent) already
                content = channel.prepare(message, nid, target)
                if await self.notifications.add(
                    self._pending(message, nid, channel, target, content)
                ):
                    stored += 1
                    log.info(
                        "notification stored",
                        notification=nid,
                        channel=channel.name,
                        template=message.template.value,
                        locale=message.recipient.locale,
                    )
        return stored

    def _pending(
        self,
        message: Message,
        nid: str,
        channel: Channel,
        target: Target,
        content: dict[str, str],
    ) -> Notification:
        now = self.clock.now()
        r, c = message.recipient, message.cause
        return Notification(
            notification_id=nid,
            channel=channel.name,
            template=message.template.value,
            audience=target.audience,
            customer_id=r.customer_id,
            locale=r.locale,
            requested_locale=r.requested_locale,
            target=target,
            recipient_name=r.name,
            cause_event_id=c.event_id,
            cause_type=c.type,
            cause_aggregate_id=c.aggregate_id,
            cause_occurred_at=c.occurred_at,
            correlation_id=c.correlation_id,
            facts=jsonable(message.facts),
            content=content,
            created_at=now,
            next_attempt_at=now,
        )

    # -- history -----------------------------------------------------------------------

    async def customer_history(
        self, customer_id: str, before: datetime | None, limit: int
    ) -> list[Notification]:
        return await self.notifications.search(
            Search(
                customer_id=customer_id,
                audience=Audience.CUSTOMER.value,
                before=before,
                limit=limit,
            )
        )

    async def customer_notification(self, customer_id: str, nid: str) -> Notification:
        found = await self.notifications.get(nid)
        if (
            found is None
            or found.customer_id != customer_id
            or found.audience is not Audience.CUSTOMER
        ):
            raise NotFound(f"no notification {nid!r}")
        return found

    async def search(self, search: Search) -> list[Notification]:
        return await self.notifications.search(search)

    async def notification(self, nid: str) -> Notification:
        found = await self.notifications.get(nid)
        if found is None:
            raise NotFound(f"no notification {nid!r}")
        return found

    # -- webhook endpoints ---------------------------------------------------------------

    async def register_endpoint(
        self, url: str, events: list[str], description: str, secret: str | None
    ) -> Endpoint:
        """Raises ``InvalidEndpoint``. Without a secret, one is generated (shown once)."""
        endpoint = Endpoint(
            endpoint_id=str(uuid.uuid4()),
            url=check_url(url, self.allow_plain_http),
            secret=secret or secrets.token_urlsafe(32),
            events=check_events(events, MESSAGE_TYPES),
            description=description,
            active=True,
            created_at=self.clock.now(),
        )
        await self.endpoints.add(endpoint)
        return endpoint

    async def list_endpoints(self) -> list[Endpoint]:
        return await self.endpoints.all()

    async def remove_endpoint(self, endpoint_id: str) -> None:
        if not await self.endpoints.deactivate(endpoint_id):
            raise NotFound(f"no endpoint {endpoint_id!r}")
