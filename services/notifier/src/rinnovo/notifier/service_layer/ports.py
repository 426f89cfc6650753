"""What the use cases need besides their notifications, as interfaces the adapters satisfy."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from rinnovo.notifier.domain.endpoints import Endpoint
from rinnovo.notifier.domain.messages import KnownOrder
from rinnovo.notifier.domain.notifications import Notification


@dataclass(frozen=True)
class Search:
    """What operators filter notifications by; ``None`` means any."""

    customer_id: str | None = None
    status: str | None = None
    channel: str | None = None
    template: str | None = None
    cause_event_id: str | None = None
    endpoint_id: str | None = None
    audience: str | None = None
    before: datetime | None = None
    limit: int = 50


class History(Protocol):
    async def search(self, search: Search) -> list[Notification]:
        """Newest first (by creation, then id)."""
        ...


class KnownOrders(Protocol):
    """What the notifier remembers of each order (from ``OrderPlaced``)."""

    async def remember(self, order: KnownOrder) -> None:
        """The first facts remembered of an order win; remembering again changes nothing."""
        ...

    async def get(self, order_id: str) -> KnownOrder | None: ...


class Endpoints(Protocol):
    """Integrators' webhook endpoints."""

    async def add(self, endpoint: Endpoint) -> None: ...

    async def get(self, endpoint_id: str) -> Endpoint | None: ...

    async def all(self) -> list[Endpoint]:
        """Oldest first."""
        ...

    async def subscribed_to(self, template: str) -> list[Endpoint]:
        """The active endpoints that receive this message type, by id."""
        ...

    async def deactivate(self, endpoint_id: str) -> bool:
        """False when there is no such endpoint."""
        ...
