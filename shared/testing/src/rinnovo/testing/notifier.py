"""The notifier on in-memory stores: the same use cases, domain, layout and channels as in
production, without Kafka or MongoDB, on a clock moved by hand; webhooks are answered by a
script instead of a network. For the notifier's fast use-case tests."""

from dataclasses import dataclass, field, replace
from datetime import timedelta

import httpx

from rinnovo.contracts import Event
from rinnovo.notifier.adapters.layout import NOTIFICATIONS, SCHEDULE
from rinnovo.notifier.channels.base import Channel
from rinnovo.notifier.channels.email import SmtpConfig
from rinnovo.notifier.channels.webhook import WebhookChannel
from rinnovo.notifier.domain.delivery import RetryPolicy
from rinnovo.notifier.domain.egress import EgressPolicy
from rinnovo.notifier.domain.endpoints import Endpoint
from rinnovo.notifier.domain.identity import notification_id
from rinnovo.notifier.domain.messages import KnownOrder
from rinnovo.notifier.domain.notifications import Notification
from rinnovo.notifier.entrypoints.deliverer import Deliverer
from rinnovo.notifier.service_layer.context import Context
from rinnovo.notifier.service_layer.ports import Search
from rinnovo.runtime.changes import Aggregates, Changes
from rinnovo.runtime.clock import FixedClock
from rinnovo.testing.aggregates import MemoryAggregates


def plain_smtp(
    port: int, *, reply_to: str | None = None, message_id_domain: str = "notifier.example.it"
) -> SmtpConfig:
    """An SMTP server on this machine without TLS or login, as the tests' server is."""
    return SmtpConfig(
        host="127.0.0.1",
        port=port,
        starttls=False,
        tls=False,
        validate_certs=True,
        username=None,
        password=None,
        timeout_seconds=5.0,
        mail_from="Area Clienti <noreply@example.it>",
        reply_to=reply_to,
        message_id_domain=message_id_domain,
    )


class MemoryOrders:
    def __init__(self) -> None:
        self.orders: dict[str, KnownOrder] = {}

    async def remember(self, order: KnownOrder) -> None:
        self.orders.setdefault(order.order_id, order)

    async def get(self, order_id: str) -> KnownOrder | None:
        return self.orders.get(order_id)


class MemoryEndpoints:
    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}

    async def add(self, endpoint: Endpoint) -> None:
        self.endpoints[endpoint.endpoint_id] = endpoint

    async def get(self, endpoint_id: str) -> Endpoint | None:
        return self.endpoints.get(endpoint_id)

    async def all(self) -> list[Endpoint]:
        return sorted(self.endpoints.values(), key=lambda e: e.created_at)

    async def subscribed_to(self, template: str) -> list[Endpoint]:
        return [e for _, e in sorted(self.endpoints.items()) if e.wants(template)]

    async def deactivate(self, endpoint_id: str) -> bool:
        if endpoint_id not in self.endpoints:
            return False
        self.endpoints[endpoint_id] = replace(self.endpoints[endpoint_id], active=False)
        return True


class MemoryHistory:
    """The search over the in-memory store: every notification, filtered here."""

    def __init__(self, store: MemoryAggregates[Notification]) -> None:
        self.store = store

    async def search(self, search: Search) -> list[Notification]:
        def wanted(n: Notification) -> bool:
            return (
                search.customer_id in (None, n.customer_id)
                and search.status in (None, n.status.value)
                and search.channel in (None, n.channel)
                and search.template in (None, n.template)
                and search.cause_event_id in (None, n.cause_event_id)
                and search.endpoint_id in (None, n.target.key)
                and search.audience in (None, n.audience.value)
                and (search.before is None or n.created_at < search.before)
            )

        newest_first = await self.store.find({}, sort=[("created_at", -1), ("_id", 1)])
        return [s.value for s in newest_first if wanted(s.value)][: search.limit]


@dataclass
class Hooks:
    """Integrators' endpoints as a script: the next statuses to answer, the requests seen."""

    statuses: list[int] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.statuses.pop(0) if self.statuses else 200)


def email_id(event: Event, template: str) -> str:
    """The id of the e-mail ``event`` causes with ``template``."""
    return notification_id(str(event.event_id), "email", template)


POLICY = RetryPolicy(timedelta(seconds=30), timedelta(minutes=10), max_attempts=4)
LEASE = timedelta(minutes=5)


@dataclass
class Notifier:
    ctx: Context
    clock: FixedClock
    store: MemoryAggregates[Notification]
    hooks: Hooks

    def deliverer(self, **channels: Channel) -> Deliverer:
        """A replica's delivery loops, with some channels replaced."""
        ctx = replace(self.ctx, channels={**self.ctx.channels, **channels})
        return Deliverer(ctx, lease=LEASE, poll_seconds=1)

    async def deliver(self, channel: str = "email") -> int:
        """Attempt what is due now on one channel, as its loop would."""
        return await self.deliverer().deliver_due(channel)

    def on(self, store: Aggregates[Notification]) -> Context:
        """The use cases on another store (one that fails, say)."""
        return replace(self.ctx, notifications=Changes(store))

    async def stored(self, nid: str) -> Notification:
        found = await self.ctx.notifications.get(nid)
        assert found is not None
        return found.value

    def events(self) -> list[Event]:
        return list(self.store.events)


def in_memory(clock: FixedClock, email: Channel) -> Notifier:
    """The notifier with ``email`` as its e-mail channel and a scripted webhook one."""
    store = MemoryAggregates(NOTIFICATIONS, schedule=SCHEDULE)
    endpoints = MemoryEndpoints()
    hooks = Hooks()
    ctx = Context(
        notifications=Changes(store),
        history=MemoryHistory(store),
        orders=MemoryOrders(),
        endpoints=endpoints,
        channels={
            "email": email,
            "webhook": WebhookChannel(
                endpoints, 5.0, EgressPolicy(), httpx.MockTransport(hooks.answer)
            ),
        },
        clock=clock,
        retry=POLICY,
        default_locale="it",
    )
    return Notifier(ctx, clock, store, hooks)
