"""The payments service on in-memory stores: the same use cases, domain, layout and method
plugins as in production, without Kafka or MongoDB, on a clock moved by hand. Stripe is
played by ``MemoryStripe``: Stripe's own signature check for callbacks, scripted answers
for the calls that move money. For the payments service's fast use-case tests."""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.contracts import Event
from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.contracts.orders import (
    Components,
    Holder,
    OrderKind,
    OrderLine,
    OrderPlaced,
    OrderPlacedPayload,
)
from rinnovo.payments.adapters import layout
from rinnovo.payments.adapters.statement_formats import load_statement_formats
from rinnovo.payments.adapters.stripe_gateway import StripeGateway
from rinnovo.payments.domain.callbacks import ProcessedCallback
from rinnovo.payments.domain.payments import Checkout, Payment
from rinnovo.payments.domain.reviews import ReviewItem
from rinnovo.payments.domain.statement_import import BankCredit, ImportRecord
from rinnovo.payments.domain.statements import Statement
from rinnovo.payments.entrypoints.scheduler import ChargeScheduler
from rinnovo.payments.methods.base import (
    ChargeOutcome,
    ChargeResult,
    MethodContext,
    ProviderNotice,
    ProviderUnavailable,
    StoredMethod,
)
from rinnovo.payments.methods.offline import bank_transfer, postal_slip
from rinnovo.payments.methods.registry import Methods
from rinnovo.payments.methods.stripe_methods import card, paypal, sepa_direct_debit
from rinnovo.payments.service_layer.context import Context
from rinnovo.payments.service_layer.ports import Policies
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import FixedClock
from rinnovo.runtime.events import new_event
from rinnovo.testing.aggregates import MemoryAggregates
from rinnovo.testing.payment_providers import stripe_signature

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEBHOOK_SECRET = "whsec_memory_0123456789"
IBAN = "IT60X0542811101000000123456"


class Meanwhile:
    """A store whose next write first lets ``other`` run to its end: another replica's
    change between a use case's read and its write."""

    def __init__(self, store: Any, other: Callable[[], Awaitable[object]]) -> None:
        self.store = store
        self.other: Callable[[], Awaitable[object]] | None = other

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Any) -> Any:
        if self.other is not None:
            other, self.other = self.other, None
            await other()
        return await self.store.write(writes)


class MemoryProducts:
    def __init__(self) -> None:
        self.snapshots: dict[str, tuple[int, ProductSnapshot]] = {}

    async def apply(self, product_id: str, version: int, snapshot: ProductSnapshot) -> None:
        held = self.snapshots.get(product_id)
        if held is None or held[0] < version:
            self.snapshots[product_id] = (version, snapshot)

    async def get(self, product_id: str) -> ProductSnapshot | None:
        held = self.snapshots.get(product_id)
        return None if held is None else held[1]


@cache
def _signatures() -> StripeGateway:
    """Stripe's own check of a callback's signature (it calls nothing)."""
    return StripeGateway(api_key="sk_test_memory", webhook_secret=WEBHOOK_SECRET)


@cache
def _seed_products() -> tuple[ProductSnapshot, ...]:
    return tuple(draft.published() for draft in read_seed().products)


@dataclass
class MemoryStripe:
    """Stripe as the methods see it. ``charges`` says how the next off-session charges end
    (``succeed``, ``decline``, ``processing`` or ``unavailable``); a repeated idempotency key
    gets the first answer, as Stripe gives it. Every call is kept in ``calls``."""

    clock: FixedClock
    charges: list[str] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(what, idempotency key)."""
    refunds: list[tuple[str, int]] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    name: str = "stripe"

    def read_callback(self, body: bytes, headers: Any, now: datetime) -> ProviderNotice:
        return _signatures().read_callback(body, headers, now)

    def _once(self, what: str, key: str, answer: Any) -> Any:
        if key not in self.answers:
            self.answers[key] = answer()
            self.calls.append((what, key))
        return self.answers[key]

    async def create_checkout(
        self, payment: Payment, method_types: list[str], idempotency_key: str
    ) -> Checkout:
        def session() -> Checkout:
            sid = f"cs_test_{len(self.calls)}"
            url = f"https://checkout.stripe.com/c/pay/{sid}"
            return Checkout(sid, url, self.clock.now() + timedelta(days=1), created=1)

        answer: Checkout = self._once("checkout", idempotency_key, session)
        return answer

    async def charge(
        self, payment: Payment, stored: StoredMethod, method_type: str, idempotency_key: str
    ) -> ChargeResult:
        if self.charges and self.charges[0] == "unavailable":
            self.charges.pop(0)
            raise ProviderUnavailable("stripe: connection reset")

        def result() -> ChargeResult:
            intent = f"pi_test_{len(self.calls)}"
            match self.charges.pop(0):
                case "succeed":
                    return ChargeResult(ChargeOutcome.SUCCEEDED, intent, payment.amount_cents)
                case "processing":
                    return ChargeResult(ChargeOutcome.PROCESSING, intent)
                case _:
                    reason = "Your card has insufficient funds."
                    return ChargeResult(ChargeOutcome.FAILED, intent, reason=reason)

        answer: ChargeResult = self._once("charge", idempotency_key, result)
        return answer

    async def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> str:
        def refunded() -> str:
            self.refunds.append((reference, amount_cents))
            return f"re_test_{len(self.refunds)}"

        answer: str = self._once("refund", idempotency_key, refunded)
        return answer


@dataclass
class PaymentsService:
    ctx: Context
    clock: FixedClock
    payments: MemoryAggregates[Payment]
    reviews: MemoryAggregates[ReviewItem]
    bank: MemoryAggregates[BankCredit]
    stripe: MemoryStripe

    def scheduler(self) -> ChargeScheduler:
        return ChargeScheduler(self.ctx, lease=timedelta(minutes=2))

    def types(self) -> list[str]:
        """The payment events written, in order."""
        return [e.type for e in self.payments.events]

    def events(self, event_type: str) -> list[Event]:
        return [e for e in self.payments.events if e.type == event_type]

    async def payment(self, payment_id: str) -> Payment:
        stored = await self.ctx.payments.get(payment_id)
        assert stored is not None
        return stored.value

    def signed(self, body: bytes, at: datetime | None = None) -> dict[str, str]:
        """Headers of a callback Stripe signed ``at`` (now by default), as the API reads them."""
        instant = int((at or self.clock.now()).timestamp())
        [(name, value)] = stripe_signature(body, WEBHOOK_SECRET, instant).items()
        return {name.lower(): value}

    def meanwhile(self, other: Callable[[], Awaitable[object]]) -> Context:
        """The use cases with ``other`` run just before their next write of a payment."""
        return replace(self.ctx, payments=Changes(Meanwhile(self.payments, other)))

    async def open_reviews(self) -> list[ReviewItem]:
        found = await self.ctx.reviews.find({"status": "open"}, sort=[("opened_at", 1)])
        return [s.value for s in found]


def statement(data: bytes) -> Statement:
    """A statement file read as the admin API reads it (camt, CSV or MT940)."""
    formats = load_statement_formats(["camt", "csv", "mt940"])
    found = formats.for_file("statement", data)
    assert found is not None
    return found.parse(data)


def order_placed(
    number: int,
    total_cents: int,
    method: str = "bank_transfer",
    kind: OrderKind = OrderKind.RENEWAL,
    customer_id: str | None = None,
    payment_due: date = date(2026, 3, 31),
) -> OrderPlaced:
    """An order as orders publishes it when a customer checks out."""
    order_id = f"ord-{number:03d}"
    customer = customer_id or f"c{number:03d}"
    event: OrderPlaced = new_event(
        OrderPlaced,
        payload=OrderPlacedPayload(
            order_id=order_id,
            number=f"RN-2026-{number:06d}",
            kind=kind,
            service_id=f"svc-{number:03d}",
            username=f"{customer}@example.it",
            product_id="fe-standard",
            product_name="Fatturazione Elettronica Standard",
            holder=Holder(customer_id=customer, name="Studio Rossi", email="r@example.it"),
            placed_at=START,
            payment_due=payment_due,
            payment_method=method,
            term_years=1,
            components=Components(storage_gb=1, extra_users=0, nso=False),
            lines=(
                OrderLine(
                    item="base",
                    description="Servizio base",
                    quantity=1,
                    unit_yearly_cents=total_cents,
                    years=1,
                    amount_cents=total_cents,
                ),
            ),
            discount_cents=0,
            net_cents=total_cents,
            vat_rate_basis_points=0,
            vat_cents=0,
            total_cents=total_cents,
            catalog_product_version=1,
            price_version=1,
        ),
        producer="orders",
        aggregate_id=order_id,
        aggregate_version=1,
        occurred_at=START,
        correlation_id=str(uuid.uuid4()),
    )
    return event


def in_memory(clock: FixedClock) -> PaymentsService:
    """Every method plugin, the seed catalog's products in the replica."""
    stripe = MemoryStripe(clock)
    methods = MethodContext(
        beneficiary="Rinnovo S.r.l.",
        iban=IBAN,
        bic="BPMOIT22XXX",
        postal_account="000012345678",
        public_base_url="http://payments.test",
        stripe=lambda: stripe,
    )
    plugins = (bank_transfer, postal_slip, card, paypal, sepa_direct_debit)
    products = MemoryProducts()
    for product in _seed_products():
        products.snapshots[product.product_id] = (1, product)
    payments = MemoryAggregates(
        layout.PAYMENTS, schedule=layout.PAYMENT_SCHEDULE, unique=layout.PAYMENT_UNIQUE
    )
    reviews: MemoryAggregates[ReviewItem] = MemoryAggregates(layout.REVIEWS)
    bank: MemoryAggregates[BankCredit] = MemoryAggregates(layout.BANK_CREDITS)
    statements: MemoryAggregates[ImportRecord] = MemoryAggregates(layout.STATEMENTS)
    stored: MemoryAggregates[StoredMethod] = MemoryAggregates(layout.STORED_METHODS)
    callbacks: MemoryAggregates[ProcessedCallback] = MemoryAggregates(layout.CALLBACKS)
    ctx = Context(
        payments=Changes(payments),
        reviews=Changes(reviews),
        bank=Changes(bank),
        statements=Changes(statements),
        stored_methods=Changes(stored),
        callbacks=Changes(callbacks),
        products=products,
        methods=Methods({p.name: p.create(methods) for p in plugins}),
        clock=clock,
        policies=Policies("http://payments.test", (1, 3, 7)),
    )
    return PaymentsService(ctx, clock, payments, reviews, bank, stripe)
