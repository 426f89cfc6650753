"""The orders use cases on the in-memory stores: no server, a clock moved by hand.

``orders`` is a whole orders service without Kafka or MongoDB: the same use cases, domain,
layout and scheduler as in production, on ``rinnovo.testing``'s store of the runtime's
contract, with the catalog seed in its replica. Events written are read from the stores.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

import pytest
from pydantic import BaseModel

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.contracts import Event
from rinnovo.contracts.payments import PaymentRegistered, PaymentRegisteredPayload
from rinnovo.orders.adapters import layout
from rinnovo.orders.domain.carts import Cart
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.subscription import (
    AutoRenewal,
    Components,
    Holder,
    Status,
    Subscription,
)
from rinnovo.orders.entrypoints.scheduler import Scheduler
from rinnovo.orders.service_layer import admin, carts, checkout, payments
from rinnovo.orders.service_layer.context import Context
from rinnovo.orders.service_layer.ports import IdempotencyRecord, Policies, UseLimits
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import FixedClock, end_of_rome_day, rome_date
from rinnovo.runtime.events import new_event
from rinnovo.testing.aggregates import MemoryAggregates

S = TypeVar("S", bound=BaseModel)

START = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
ACCEPTED = {doc: "2025-01" for doc in ("general_conditions", "unfair_terms", "privacy")}
HOLDER = Holder("Studio Rossi", "rossi@example.it", "it")


class MemoryReplica(Generic[S]):
    def __init__(self) -> None:
        self.snapshots: dict[str, tuple[int, S]] = {}

    async def apply(self, id_: str, version: int, snapshot: S) -> bool:
        held = self.snapshots.get(id_)
        if held is not None and held[0] >= version:
            return False
        self.snapshots[id_] = (version, snapshot)
        return True

    async def get(self, id_: str) -> S | None:
        held = self.snapshots.get(id_)
        return None if held is None else held[1]

    async def version(self, id_: str) -> int:
        return self.snapshots[id_][0]

    async def all(self) -> list[S]:
        return [s for _, (_, s) in sorted(self.snapshots.items())]


class MemoryNumbers:
    def __init__(self) -> None:
        self.last: dict[int, int] = {}

    async def next(self, year: int) -> str:
        self.last[year] = self.last.get(year, 0) + 1
        return f"RN-{year}-{self.last[year]:06d}"


class MemoryKeys:
    def __init__(self) -> None:
        self.records: dict[str, IdempotencyRecord] = {}

    async def claim(self, key_id: str, record: IdempotencyRecord) -> IdempotencyRecord:
        return self.records.setdefault(key_id, record)


class MemoryCodeUses:
    def __init__(self) -> None:
        self.orders: dict[str, dict[str, str]] = {}  # code -> order id -> customer

    async def claim(self, code: str, order_id: str, customer_id: str, limits: UseLimits) -> bool:
        using = self.orders.setdefault(code, {})
        if order_id in using:
            return True
        theirs = sum(1 for who in using.values() if who == customer_id)
        if limits.total is not None and len(using) >= limits.total:
            return False
        if limits.per_customer is not None and theirs >= limits.per_customer:
            return False
        using[order_id] = customer_id
        return True

    async def release(self, code: str, order_id: str, customer_id: str) -> None:
        self.orders.get(code, {}).pop(order_id, None)


def start_of(day: date) -> datetime:
    return end_of_rome_day(day - timedelta(days=1))


@dataclass
class Orders:
    ctx: Context
    clock: FixedClock
    services: MemoryAggregates[Subscription]
    orders: MemoryAggregates[Order]
    wakes: list[None] = field(default_factory=list)

    def scheduler(self) -> Scheduler:
        return Scheduler(self.ctx, lease=timedelta(seconds=60))

    def events(self, event_type: str | None = None) -> list[Event]:
        written = [*self.services.events, *self.orders.events]
        written.sort(key=lambda e: e.occurred_at)
        return [e for e in written if event_type is None or e.type == event_type]

    def types(self, prefix: str = "orders.service.") -> list[str]:
        return [e.type for e in self.services.events if e.type.startswith(prefix)]

    async def travel_to(self, instant: datetime) -> int:
        """Move the clock to just after ``instant`` and sweep until nothing is due."""
        self.clock.advance(instant - self.clock.now() + timedelta(seconds=1))
        handled, scheduler = 0, self.scheduler()
        while (done := await scheduler.sweep()) > 0:
            handled += done
        return handled

    async def import_service(self, customer_id: str, **fields: Any) -> Subscription:
        service = Subscription(
            subscription_id=fields.pop("service_id", f"svc-{customer_id}"),
            customer_id=customer_id,
            holder=HOLDER,
            username=f"{customer_id}@example.it",
            product_id=fields.pop("product_id", "fe-standard"),
            status=fields.pop("status", Status.ACTIVE),
            expiry_date=fields.pop(
                "expiry_date", rome_date(self.clock.now()) + timedelta(days=100)
            ),
            components=Components(fields.pop("storage_gb", 1), 0, False),
            used_bytes=fields.pop("used_bytes", 0),
            auto_renewal=fields.pop("auto_renewal", AutoRenewal(False, 1)),
        )
        assert not fields, fields
        return await admin.import_service(self.ctx, service)

    async def order(
        self,
        customer_id: str,
        kind: OrderKind,
        *,
        service_id: str | None = None,
        key: str | None = None,
        **choices: object,
    ) -> Order:
        """A cart from a service (or a first purchase), checked out."""
        product, username = (
            ("fe-standard", f"new-{customer_id}")
            if kind is OrderKind.FIRST_PURCHASE
            else (None, None)
        )
        view = await carts.start_cart(self.ctx, customer_id, kind, service_id, product, username)
        cart_id = view.cart.cart_id
        await carts.change_cart(
            self.ctx, customer_id, cart_id, {"payment_method": "bank_transfer", **choices}
        )
        return await checkout.checkout(self.ctx, customer_id, cart_id, ACCEPTED, HOLDER, key)

    def payment(
        self, order: Order, payment_id: str, at: datetime | None = None
    ) -> PaymentRegistered:
        return new_event(
            PaymentRegistered,
            payload=PaymentRegisteredPayload(
                payment_id=payment_id,
                order_id=order.order_id,
                order_number=order.number,
                method=order.payment_method,
                amount_cents=order.quote.total_cents,
                registered_at=at or self.clock.now(),
            ),
            producer="payments",
            aggregate_id=payment_id,
            aggregate_version=1,
            occurred_at=self.clock.now(),
        )

    async def pay(self, order: Order, payment_id: str = "pay-1") -> PaymentRegistered:
        event = self.payment(order, payment_id)
        await payments.register_payment(self.ctx, event)
        return event

    async def service(self, service_id: str) -> Subscription:
        stored = await self.ctx.services.get(service_id)
        assert stored is not None
        return stored.value

    async def order_now(self, order_id: str) -> Order:
        stored = await self.ctx.orders.get(order_id)
        assert stored is not None
        return stored.value


def in_memory(clock: FixedClock) -> Orders:
    services = MemoryAggregates(layout.SERVICE_CODEC, schedule=layout.SERVICE_SCHEDULE)
    orders = MemoryAggregates(
        layout.ORDER_CODEC, schedule=layout.ORDER_SCHEDULE, unique=layout.ORDER_UNIQUE
    )
    cart_store: MemoryAggregates[Cart] = MemoryAggregates(layout.CART_CODEC)
    products = MemoryReplica[Any]()
    codes = MemoryReplica[Any]()
    seed = read_seed()
    for draft in seed.products:
        products.snapshots[draft.product_id] = (1, draft.published())
    for code in seed.convention_codes:
        codes.snapshots[code.code] = (1, code.published())
    wakes: list[None] = []

    def wake() -> None:
        wakes.append(None)

    ctx = Context(
        services=Changes(services, wake),
        orders=Changes(orders, wake),
        carts=Changes(cart_store, wake),
        numbers=MemoryNumbers(),
        idempotency=MemoryKeys(),
        code_uses=MemoryCodeUses(),
        products=products,
        codes=codes,
        clock=clock,
        policies=Policies(
            acceptance_versions=ACCEPTED,
            payment_methods=frozenset(
                {"bank_transfer", "postal_slip", "card", "sepa_direct_debit"}
            ),
            stored_payment_methods=frozenset({"card", "sepa_direct_debit"}),
        ),
    )
    return Orders(ctx, clock, services, orders, wakes)


@pytest.fixture
def orders() -> Orders:
    return in_memory(FixedClock(START))


@pytest.fixture
def make_orders() -> Callable[[FixedClock], Orders]:
    return in_memory
