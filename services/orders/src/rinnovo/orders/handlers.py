"""Orders use cases: one method per command or consumed event.

Every write is a version-guarded single-document update carrying its events (outbox) and,
for consumed events, the event id (inbox); a concurrent change makes the use case read again
and decide again, never overwrite.
"""

import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog

from rinnovo.contracts import Event
from rinnovo.contracts.catalog import (
    ConventionCodeSnapshot,
    ConventionCodeSnapshotPublished,
    ProductSnapshot,
    ProductSnapshotPublished,
)
from rinnovo.orders import integration_events as events
from rinnovo.orders.adapters.catalog_replica import Replica
from rinnovo.orders.adapters.repositories import (
    Carts,
    IdempotencyKeys,
    IdempotencyRecord,
    OpenRenewalExists,
    OrderNumbers,
    Orders,
    Subscriptions,
    Versioned,
    scheduled,
)
from rinnovo.orders.domain.card import Card, card
from rinnovo.orders.domain.carts import Cart, cart_for_service, first_purchase_cart, quote_cart
from rinnovo.orders.domain.orders import Acceptance, Order, OrderConflict, OrderStatus
from rinnovo.orders.domain.pricing import OrderKind, Quote, QuoteRefused
from rinnovo.orders.domain.schedule import Milestone, next_due, pending
from rinnovo.orders.domain.subscription import (
    AutoRenewal,
    Components,
    Holder,
    Status,
    Subscription,
    TimelineEntry,
)
from rinnovo.orders.errors import Conflict, Invalid, NotFound
from rinnovo.runtime.aggregates import VersionConflict
from rinnovo.runtime.clock import Clock, rome_date

log = structlog.get_logger(__name__)

ACCEPTANCE_DOCUMENTS = ("general_conditions", "unfair_terms", "privacy")
HISTORY_LIMIT = 100
ORDER_IDS = uuid.UUID(  # namespace of the ids derived from requests and terms
    "9b0f3d8e-4c1a-4c55-9a63-2d1f4f0a7e11"
)


def timeline_entry(event: Event) -> TimelineEntry:
    payload = event.payload
    service = getattr(payload, "service", None)
    return TimelineEntry(
        at=event.occurred_at,
        event=event.type.removeprefix("orders.service."),
        expiry_date=getattr(service, "expiry_date", None),
        order_id=getattr(payload, "order_id", None),
    )


@dataclass(frozen=True)
class Policies:
    """Deployment settings the use cases need."""

    acceptance_versions: dict[str, str]
    payment_methods: frozenset[str]
    stored_payment_methods: frozenset[str]
    """Methods that can be charged again without the customer: automatic renewal needs one."""


@dataclass(frozen=True)
class CartView:
    cart: Cart
    quote: Quote


class OrdersApp:
    def __init__(
        self,
        *,
        subscriptions: Subscriptions,
        orders: Orders,
        carts: Carts,
        numbers: OrderNumbers,
        idempotency: IdempotencyKeys,
        products: Replica[ProductSnapshot],
        codes: Replica[ConventionCodeSnapshot],
        clock: Clock,
        policies: Policies,
        on_events: Callable[[], None] = lambda: None,
    ) -> None:
        self.subscriptions = subscriptions
        self.orders = orders
        self.carts = carts
        self.numbers = numbers
        self.idempotency = idempotency
        self.products = products
        self.codes = codes
        self.clock = clock
        self.policies = policies
        self._on_events = on_events

    # -- reading -----------------------------------------------------------------------

    async def product(self, product_id: str) -> ProductSnapshot:
        product = await self.products.get(product_id)
        if product is None:
            raise NotFound(f"no product {product_id!r}")
        return product

    async def own_service(self, customer_id: str, service_id: str) -> Versioned[Subscription]:
        found = await self.subscriptions.get(service_id)
        if found is None or found.value.customer_id != customer_id:
            raise NotFound(f"no service {service_id!r}")
        return found

    async def own_order(self, customer_id: str, order_id: str) -> Versioned[Order]:
        found = await self.orders.get(order_id)
        if found is None or found.value.customer_id != customer_id:
            raise NotFound(f"no order {order_id!r}")
        return found

    async def cards(self, customer_id: str) -> list[Card]:
        services = await self.subscriptions.of_customer(customer_id)
        today = rome_date(self.clock.now())
        policies: dict[str, ProductSnapshot] = {}
        shown = []
        for s in services:
            if s.value.product_id not in policies:
                policies[s.value.product_id] = await self.product(s.value.product_id)
            shown.append(card(s.value, policies[s.value.product_id].policy, today))
        return shown

    async def card(self, customer_id: str, service_id: str) -> Card:
        service = (await self.own_service(customer_id, service_id)).value
        product = await self.product(service.product_id)
        return card(service, product.policy, rome_date(self.clock.now()))

    async def orders_of(self, customer_id: str, service_id: str | None = None) -> list[Order]:
        if service_id is not None:
            await self.own_service(customer_id, service_id)
        return [o.value for o in await self.orders.of_customer(customer_id, service_id)]

    # -- carts -------------------------------------------------------------------------

    async def start_cart(
        self,
        customer_id: str,
        kind: OrderKind,
        service_id: str | None,
        product_id: str | None,
        username: str | None,
    ) -> CartView:
        now = self.clock.now()
        cart_id = str(uuid.uuid4())
        if kind is OrderKind.FIRST_PURCHASE:
            if not product_id or not username:
                raise Invalid("product_id", "a first purchase names a product and a username")
            product = await self._product_for_field(product_id)
            new_cart = first_purchase_cart(cart_id, customer_id, product, username, now)
        elif kind is OrderKind.AUTOMATIC_RENEWAL:
            raise Invalid("kind", "automatic renewals are placed by the system")
        else:
            if not service_id:
                raise Invalid("service_id", f"a {kind.value} starts from a service")
            service = (await self.own_service(customer_id, service_id)).value
            product = await self.product(service.product_id)
            shown = card(service, product.policy, rome_date(now))
            try:
                new_cart = cart_for_service(cart_id, kind, service, shown, now)
            except QuoteRefused as refused:
                raise Conflict(refused.reason) from refused
            if kind is not OrderKind.UPGRADE:
                await self._no_open_renewal(service.subscription_id)
            if new_cart.term_years not in product.allowed_terms_years:
                new_cart = replace(new_cart, term_years=min(product.allowed_terms_years))
        view = await self._view(new_cart)
        await self.carts.add(cart_id, new_cart)
        return view

    async def cart(self, customer_id: str, cart_id: str) -> CartView:
        return await self._view((await self._own_cart(customer_id, cart_id)).value)

    async def change_cart(
        self, customer_id: str, cart_id: str, changes: dict[str, object]
    ) -> CartView:
        stored = await self._own_cart(customer_id, cart_id)
        cart = stored.value
        wanted = cart.wanted
        for field in ("storage_gb", "extra_users", "nso"):
            if field in changes:
                wanted = replace(wanted, **{field: changes[field]})  # type: ignore[arg-type]
        updated = replace(cart, wanted=wanted)
        for field in ("term_years", "payment_method", "automatic_renewal", "convention_code"):
            if field in changes:
                updated = replace(updated, **{field: changes[field]})  # type: ignore[arg-type]
        self._check_payment_choice(updated)
        view = await self._view(updated)
        try:
            await self.carts.save(cart_id, updated, stored.version)
        except VersionConflict as exc:
            raise Conflict("the cart was changed meanwhile; read it again") from exc
        return view

    # -- checkout and orders -------------------------------------------------------------

    async def checkout(
        self,
        customer_id: str,
        cart_id: str,
        acceptances: dict[str, str],
        holder: Holder | None,
        idempotency_key: str | None,
    ) -> Order:
        order_id = str(uuid.uuid4())
        if idempotency_key:
            request = json.dumps(
                {"cart": cart_id, "acceptances": acceptances, "holder": holder and vars(holder)},
                sort_keys=True,
            )
            wanted = IdempotencyRecord(
                hashlib.sha256(request.encode()).hexdigest(),
                str(uuid.uuid5(ORDER_IDS, f"{customer_id}:{idempotency_key}")),
            )
            claimed = await self.idempotency.claim(customer_id, idempotency_key, wanted)
            if claimed.request_hash != wanted.request_hash:
                raise Invalid("Idempotency-Key", "already used for a different request")
            order_id = claimed.order_id
            if (existing := await self.orders.get(order_id)) is not None:
                return existing.value

        cart = (await self._own_cart(customer_id, cart_id)).value
        now = self.clock.now()
        self._check_acceptances(acceptances)
        if cart.payment_method is None:
            raise Invalid("payment_method", "choose how to pay")
        self._check_payment_choice(cart)
        product = await self.product(cart.product_id)
        service = await self._service_for(cart, order_id, holder)
        q = (await self._view(cart)).quote
        if cart.kind is OrderKind.UPGRADE and not q.lines:
            raise Invalid("components", "an upgrade must add space, users or the NSO module")
        order = Order(
            order_id=order_id,
            number=await self.numbers.next(rome_date(now).year),
            customer_id=customer_id,
            subscription_id=service.subscription_id,
            kind=cart.kind,
            status=OrderStatus.AWAITING_PAYMENT,
            placed_at=now,
            payment_due=rome_date(now) + timedelta(days=product.policy.unpaid_order_timeout_days),
            payment_method=cart.payment_method,
            quote=q,
            catalog_product_version=await self.product_version(product.product_id),
            acceptances=tuple(
                Acceptance(doc, acceptances[doc], now) for doc in ACCEPTANCE_DOCUMENTS
            ),
            automatic_renewal=AutoRenewal(
                enabled=cart.automatic_renewal,
                term_years=cart.term_years,
                payment_method=cart.payment_method if cart.automatic_renewal else None,
            )
            if cart.kind is not OrderKind.UPGRADE
            else None,
            convention_code=q.discount.code if q.discount else None,
        )
        placed = events.order_placed(order, service, product.name, 1, now)
        try:
            await self.orders.add(order_id, order, [placed])
        except OpenRenewalExists as exc:
            raise Conflict("this service already has a renewal awaiting payment") from exc
        except VersionConflict:
            # The same idempotency key, checked out concurrently: one order, one answer.
            existing = await self.orders.get(order_id)
            assert existing is not None
            return existing.value
        self._on_events()
        return order

    async def cancel_order(self, customer_id: str, order_id: str, confirm: bool) -> Order:
        if not confirm:
            raise Invalid("confirm", "cancelling an order needs an explicit confirmation")
        while True:
            stored = await self.own_order(customer_id, order_id)
            now = self.clock.now()
            try:
                cancelled = stored.value.cancel(now, "customer")
            except OrderConflict as exc:
                raise Conflict(str(exc)) from exc
            service = await self.subscriptions.get(cancelled.subscription_id)
            assert service is not None
            event = events.order_cancelled(
                cancelled, service.value, stored.version + 1, now, order_id
            )
            try:
                await self.orders.save(order_id, cancelled, stored.version, [event])
            except VersionConflict:
                continue  # paid or cancelled meanwhile: decide again on the new state
            self._on_events()
            return cancelled

    async def switch_automatic_renewal(
        self,
        customer_id: str,
        service_id: str,
        enabled: bool,
        term_years: int | None,
        payment_method: str | None,
    ) -> Subscription:
        while True:
            stored = await self.own_service(customer_id, service_id)
            service = stored.value
            if service.status not in (Status.ACTIVE, Status.PENDING_ACTIVATION):
                raise Conflict(f"the service is {service.status.value}")
            product = await self.product(service.product_id)
            term = term_years or service.auto_renewal.term_years
            if term not in product.allowed_terms_years:
                allowed = ", ".join(map(str, product.allowed_terms_years))
                raise Invalid("term_years", f"{product.name} allows terms of {allowed} years")
            method = payment_method or service.auto_renewal.payment_method
            if enabled and method not in self.policies.stored_payment_methods:
                raise Invalid(
                    "payment_method",
                    "automatic renewal needs a stored method: "
                    + ", ".join(sorted(self.policies.stored_payment_methods)),
                )
            updated = replace(
                service,
                auto_renewal=AutoRenewal(enabled, term, method if enabled else None),
            )
            if updated == service:
                return service
            now = self.clock.now()
            event = events.service_changed(
                "automatic_renewal_switched",
                updated,
                stored.version + 1,
                now,
                previous=service,
                correlation=service_id,
            )
            try:
                await self.write_service(stored, updated, [event])
            except VersionConflict:
                continue
            self._on_events()
            return updated

    async def import_service(self, service: Subscription) -> Subscription:
        """Bring an existing service (e.g. from the system being replaced) under management."""
        await self._product_for_field(service.product_id)
        now = self.clock.now()
        event = events.service_changed(
            "activated", service, 1, now, correlation=service.subscription_id
        )
        try:
            await self.write_service(None, service, [event])
        except VersionConflict as exc:
            raise Conflict(f"service {service.subscription_id} already exists") from exc
        self._on_events()
        return service

    def events_written(self) -> None:
        self._on_events()

    async def timeline(
        self, customer_id: str, service_id: str
    ) -> tuple[Subscription, list[Milestone]]:
        """What happened to a service, and what will happen next with its dates."""
        service = (await self.own_service(customer_id, service_id)).value
        policy = (await self.product(service.product_id)).policy
        return service, pending(service, policy)

    # -- consumed events -------------------------------------------------------------------

    async def on_catalog_event(self, event: Event) -> None:
        if isinstance(event, ProductSnapshotPublished):
            await self.products.apply(event.aggregate_id, event.aggregate_version, event.payload)
        elif isinstance(event, ConventionCodeSnapshotPublished):
            await self.codes.apply(event.aggregate_id, event.aggregate_version, event.payload)

    # -- helpers ---------------------------------------------------------------------------

    async def _own_cart(self, customer_id: str, cart_id: str) -> Versioned[Cart]:
        found = await self.carts.get(cart_id)
        if found is None or found.value.customer_id != customer_id:
            raise NotFound(f"no cart {cart_id!r}")
        return found

    async def _product_for_field(self, product_id: str) -> ProductSnapshot:
        product = await self.products.get(product_id)
        if product is None or not product.active:
            raise Invalid("product_id", f"no product {product_id!r} is on sale")
        return product

    async def product_version(self, product_id: str) -> int:
        return await self.products.version(product_id)

    async def _no_open_renewal(self, service_id: str) -> None:
        if (open_order := await self.orders.open_renewal_of(service_id)) is not None:
            raise Conflict(
                f"order {open_order.value.number} is awaiting payment: pay or cancel it first"
            )

    async def _view(self, cart: Cart) -> CartView:
        product = await self.product(cart.product_id)
        code = await self.codes.get(cart.convention_code) if cart.convention_code else None
        expiry = None
        if cart.subscription_id:
            service = await self.subscriptions.get(cart.subscription_id)
            expiry = service.value.expiry_date if service else None
        try:
            q = quote_cart(cart, product, rome_date(self.clock.now()), expiry, code)
        except QuoteRefused as refused:
            raise Invalid(refused.field, refused.reason) from refused
        return CartView(cart, q)

    def _check_payment_choice(self, cart: Cart) -> None:
        method = cart.payment_method
        if method is not None and method not in self.policies.payment_methods:
            known = ", ".join(sorted(self.policies.payment_methods))
            raise Invalid("payment_method", f"{method!r} is not offered; choose one of {known}")
        if cart.automatic_renewal and method not in self.policies.stored_payment_methods:
            raise Invalid(
                "automatic_renewal",
                "automatic renewal needs a stored method: "
                + ", ".join(sorted(self.policies.stored_payment_methods)),
            )

    def _check_acceptances(self, acceptances: dict[str, str]) -> None:
        for doc in ACCEPTANCE_DOCUMENTS:
            current = self.policies.acceptance_versions[doc]
            if acceptances.get(doc) != current:
                raise Invalid(f"acceptances.{doc}", f"accept version {current} to order")

    async def _service_for(self, cart: Cart, order_id: str, holder: Holder | None) -> Subscription:
        if cart.subscription_id is not None:
            stored = await self.subscriptions.get(cart.subscription_id)
            if stored is None:
                raise NotFound(f"no service {cart.subscription_id!r}")
            return stored.value
        if holder is None:
            raise Invalid("holder", "a first purchase needs the holder's name and address")
        assert cart.username is not None
        service = Subscription(
            subscription_id=str(uuid.uuid5(ORDER_IDS, f"service:{order_id}")),
            customer_id=cart.customer_id,
            holder=holder,
            username=cart.username,
            product_id=cart.product_id,
            status=Status.PENDING_ACTIVATION,
            expiry_date=None,
            components=Components(0, 0, False),
            used_bytes=0,
            auto_renewal=AutoRenewal(False, cart.term_years),
        )
        # An earlier attempt of this same checkout may have created it already.
        with contextlib.suppress(VersionConflict):
            await self.write_service(None, service, [])
        return service

    async def write_service(
        self,
        stored: Versioned[Subscription] | None,
        service: Subscription,
        emitted: list[Event],
        caused_by: str | None = None,
    ) -> None:
        """Every write of a service: its timeline and its next milestone go with it."""
        policy = (await self.product(service.product_id)).policy
        entries = tuple(timeline_entry(e) for e in emitted)
        service = replace(service, history=(*service.history, *entries)[-HISTORY_LIMIT:])
        extra = scheduled(next_due(service, policy))
        if stored is None:
            await self.subscriptions.add(service.subscription_id, service, emitted, extra)
        else:
            await self.subscriptions.save(
                service.subscription_id,
                service,
                stored.version,
                emitted,
                caused_by,
                extra,
                noted_due=stored.due_at,
            )
