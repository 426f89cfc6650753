"""The orders service's composition root."""

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.contracts.topics import (
    CATALOG_CONVENTION_CODE,
    CATALOG_PRODUCT,
    ORDERS_ORDER,
    ORDERS_SERVICE,
    PANEL_USAGE,
    PAYMENTS_PAYMENT,
)
from rinnovo.orders.adapters.catalog_replica import Replica
from rinnovo.orders.adapters.code_uses import CodeUses
from rinnovo.orders.adapters.repositories import IdempotencyKeys, OrderNumbers, Stores, stores
from rinnovo.orders.entrypoints.events import on_catalog_event, on_payment_event, on_usage_event
from rinnovo.orders.entrypoints.http import admin_router, customer_router, public_router
from rinnovo.orders.entrypoints.scheduler import Scheduler
from rinnovo.orders.service_layer.context import Context
from rinnovo.orders.service_layer.ports import Policies
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.plugins import BuiltService
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings

NAME = "orders"


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_ORDERS_", extra="ignore")

    http_port: int = 8002
    general_conditions_version: str = "2025-01"
    general_conditions_url: str = "https://help.example.it/condizioni-generali"
    unfair_terms_version: str = "2025-01"
    unfair_terms_url: str = "https://help.example.it/clausole-vessatorie"
    privacy_version: str = "2025-01"
    privacy_url: str = "https://help.example.it/privacy"
    payment_methods: set[str] = Field(
        default={"bank_transfer", "postal_slip", "card", "sepa_direct_debit"}
    )
    stored_payment_methods: set[str] = Field(default={"card", "sepa_direct_debit"})
    scheduler_interval_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often due milestones and unpaid orders are looked for; a write "
        "that makes work due at once, or a moved clock, wakes the scheduler sooner.",
    )


@dataclass(frozen=True)
class Composed:
    runtime: ServiceRuntime
    context: Context
    stores: Stores
    scheduler: Scheduler


def compose(settings: OrdersSettings, clock: Clock | None = None) -> Composed:
    """The use cases on their stores, the outbox and the scheduler (not yet running):
    shared by the service and the benchmarks."""
    runtime = ServiceRuntime(NAME, settings, clock)
    clock = runtime.clock
    db = runtime.db
    kept = stores(db)

    def written_due(due_at: datetime) -> None:
        scheduler.written_due(due_at)  # built below, before anything is written

    context = Context(
        services=runtime.changes(kept.services, "service_milestones", written_due),
        orders=runtime.changes(kept.orders, "unpaid_orders", written_due),
        carts=runtime.changes(kept.carts),
        numbers=OrderNumbers(db["counters"]),
        idempotency=IdempotencyKeys(db["idempotency_keys"]),
        products=Replica(db["catalog_products"], ProductSnapshot),
        codes=Replica(db["catalog_convention_codes"], ConventionCodeSnapshot),
        code_uses=CodeUses(db["convention_code_uses"]),
        clock=clock,
        policies=Policies(
            acceptance_versions={
                "general_conditions": settings.general_conditions_version,
                "unfair_terms": settings.unfair_terms_version,
                "privacy": settings.privacy_version,
            },
            payment_methods=frozenset(settings.payment_methods),
            stored_payment_methods=frozenset(settings.stored_payment_methods),
            document_urls={
                "general_conditions": settings.general_conditions_url,
                "unfair_terms": settings.unfair_terms_url,
                "privacy": settings.privacy_url,
            },
        ),
    )
    runtime.produces(ORDERS_ORDER, ORDERS_SERVICE)
    runtime.with_outbox(kept.orders.collection)
    runtime.with_outbox(kept.services.collection)
    scheduler = Scheduler(
        context, interval_seconds=settings.scheduler_interval_seconds, metrics=runtime.metrics
    )
    return Composed(runtime, context, kept, scheduler)


def build(settings: OrdersSettings | None = None, clock: Clock | None = None) -> BuiltService:
    settings = settings or OrdersSettings()
    composed = compose(settings, clock)
    runtime, ctx, scheduler = composed.runtime, composed.context, composed.scheduler
    runtime.subscribe(CATALOG_PRODUCT, on_catalog_event(ctx))
    runtime.subscribe(CATALOG_CONVENTION_CODE, on_catalog_event(ctx))
    runtime.subscribe(PAYMENTS_PAYMENT, on_payment_event(ctx))
    runtime.subscribe(PANEL_USAGE, on_usage_event(ctx))
    runtime.in_background(scheduler.run)
    runtime.on_clock_moved(scheduler.wake)
    runtime.on_startup(composed.stores.ensure_indexes)
    http = runtime.http_app(
        [public_router(ctx), customer_router(ctx, runtime.auth), admin_router(ctx, runtime.auth)],
        title="Rinnovo orders",
        description="The customer area: services as cards, carts, checkout and orders.",
    )
    return BuiltService(app=http, runtime=runtime, host=settings.http_host, port=settings.http_port)


class OrdersService:
    name = NAME
    description = "Customers' services and orders, their lifecycle, and the customer-area API."

    def settings(self) -> OrdersSettings:
        return OrdersSettings()

    def build(self) -> BuiltService:
        return build(self.settings())


service = OrdersService()
