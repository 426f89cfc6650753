"""What every orders use case works with: its aggregates' ``Changes``, the catalog replica,
the clock and the policies; and the reads most use cases start with."""

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductPolicy, ProductSnapshot
from rinnovo.orders.domain.automatic_renewal import NotSwitchable
from rinnovo.orders.domain.carts import Cart
from rinnovo.orders.domain.orders import Order, OrderConflict
from rinnovo.orders.domain.pricing import QuoteRefused
from rinnovo.orders.domain.schedule import recorded
from rinnovo.orders.domain.subscription import Subscription, TimelineEntry
from rinnovo.orders.service_layer.ports import (
    CodeUses,
    IdempotencyKeys,
    OrderNumbers,
    Policies,
    Replica,
)
from rinnovo.runtime.changes import Changes, Decision, Stored
from rinnovo.runtime.clock import Clock, rome_date
from rinnovo.runtime.errors import Conflict, Invalid, NotFound


@dataclass(frozen=True)
class Context:
    services: Changes[Subscription]
    orders: Changes[Order]
    carts: Changes[Cart]
    numbers: OrderNumbers
    idempotency: IdempotencyKeys
    products: Replica[ProductSnapshot]
    codes: Replica[ConventionCodeSnapshot]
    code_uses: CodeUses
    clock: Clock
    policies: Policies

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        return rome_date(self.clock.now())

    async def product(self, product_id: str) -> ProductSnapshot:
        product = await self.products.get(product_id)
        if product is None:
            raise NotFound(f"no product {product_id!r}")
        return product

    async def policy(self, product_id: str) -> ProductPolicy:
        return (await self.product(product_id)).policy

    async def product_on_sale(self, product_id: str) -> ProductSnapshot:
        product = await self.products.get(product_id)
        if product is None or not product.active:
            raise Invalid("product_id", f"no product {product_id!r} is on sale")
        return product

    async def service(self, service_id: str) -> Stored[Subscription]:
        """A service an order or a cart names: it exists, since they are created after it."""
        found = await self.services.get(service_id)
        if found is None:
            raise NotFound(f"no service {service_id!r}")
        return found

    async def own_service(self, customer_id: str, service_id: str) -> Stored[Subscription]:
        return await _own(self.services, customer_id, service_id, "service")

    async def own_order(self, customer_id: str, order_id: str) -> Stored[Order]:
        return await _own(self.orders, customer_id, order_id, "order")

    async def own_cart(self, customer_id: str, cart_id: str) -> Stored[Cart]:
        return await _own(self.carts, customer_id, cart_id, "cart")


class Owned(Protocol):
    @property
    def customer_id(self) -> str: ...


OwnedT = TypeVar("OwnedT", bound=Owned)


async def _own(changes: Changes[OwnedT], customer_id: str, id_: str, what: str) -> Stored[OwnedT]:
    """A customer's own thing; another's looks as if it did not exist."""
    found = await changes.get(id_)
    if found is None or found.value.customer_id != customer_id:
        raise NotFound(f"no {what} {id_!r}")
    return found


def timeline_entry(event: Event) -> TimelineEntry:
    payload = event.payload
    service = getattr(payload, "service", None)
    return TimelineEntry(
        at=event.occurred_at,
        event=event.type.removeprefix("orders.service."),
        expiry_date=getattr(service, "expiry_date", None),
        order_id=getattr(payload, "order_id", None),
    )


def service_change(
    service: Subscription, events: Sequence[Event], policy: ProductPolicy
) -> Decision[Subscription]:
    """Every change of a service: its timeline and its next milestone go with it."""
    entries = [timeline_entry(e) for e in events]
    return Decision(recorded(service, entries, policy), events)


@contextlib.contextmanager
def refusals() -> Iterator[None]:
    """The domain's refusals as the answers every API gives (422 naming the field, 409)."""
    try:
        yield
    except QuoteRefused as refused:
        raise Invalid(refused.field, refused.reason) from refused
    except (OrderConflict, NotSwitchable) as exc:
        raise Conflict(str(exc)) from exc
