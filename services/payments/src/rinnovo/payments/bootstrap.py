"""The payments service's composition root."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from rinnovo.contracts.topics import CATALOG_PRODUCT, ORDERS_ORDER, PAYMENTS_PAYMENT
from rinnovo.payments.adapters.catalog_replica import ProductReplica
from rinnovo.payments.adapters.repositories import (
    BankTransactions,
    Callbacks,
    Payments,
    Reviews,
    Statements,
    StoredMethods,
)
from rinnovo.payments.adapters.statement_formats import load_statement_formats
from rinnovo.payments.adapters.stripe_gateway import StripeGateway
from rinnovo.payments.entrypoints.http import admin_router, customer_router, public_router
from rinnovo.payments.handlers import PaymentsApp, Policies
from rinnovo.payments.methods.base import METHODS_GROUP, MethodContext, MethodPlugin
from rinnovo.payments.scheduler import ChargeScheduler
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.plugins import BuiltService, load_plugins
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings

NAME = "payments"


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_PAYMENTS_", extra="ignore")

    http_port: int = 8003
    public_base_url: str = Field(
        default="http://127.0.0.1:8003", description="How customers reach this API (links)."
    )
    methods: list[str] = Field(
        default=["bank_transfer", "postal_slip", "card", "paypal", "sepa_direct_debit"],
        description="Allow-list of the payment-method plugins to load.",
    )
    beneficiary_name: str = "Rinnovo S.r.l."
    beneficiary_iban: str = "IT60X0542811101000000123456"
    beneficiary_bic: str = "BPMOIT22XXX"
    postal_account: str = "000012345678"
    stripe_api_key: SecretStr = SecretStr("sk_test_not_configured")
    stripe_webhook_secret: SecretStr = SecretStr("whsec_not_configured")
    stripe_api_base: str | None = Field(
        default=None, description="Another Stripe API address (a local fake in tests)."
    )
    stripe_return_url: str = "http://127.0.0.1:8003/v1/payments?order_id={order_id}"
    callback_tolerance_seconds: int = Field(default=300, ge=1)
    default_retry_days: list[int] = Field(
        default=[1, 3, 7], description="Used until the product's own schedule is known."
    )
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)
    statement_formats: list[str] = Field(
        default=["camt", "csv", "mt940"],
        description="Allow-list of the bank-statement format plugins to load.",
    )


@dataclass(frozen=True)
class Composed:
    runtime: ServiceRuntime
    app: PaymentsApp
    scheduler: ChargeScheduler


def compose(settings: PaymentsSettings, clock: Clock | None = None) -> Composed:
    """Everything but the HTTP app: shared by the service and the command line."""
    runtime = ServiceRuntime(NAME, settings, clock)
    clock = runtime.clock
    db = runtime.db

    @cache
    def stripe() -> StripeGateway:
        return StripeGateway(
            api_key=settings.stripe_api_key.get_secret_value(),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            api_base=settings.stripe_api_base,
            tolerance=timedelta(seconds=settings.callback_tolerance_seconds),
            return_url=settings.stripe_return_url,
        )

    context = MethodContext(
        beneficiary=settings.beneficiary_name,
        iban=settings.beneficiary_iban,
        bic=settings.beneficiary_bic,
        postal_account=settings.postal_account,
        public_base_url=settings.public_base_url.rstrip("/"),
        stripe=stripe,
    )
    plugins = load_plugins(METHODS_GROUP, settings.methods, MethodPlugin)  # type: ignore[type-abstract]
    app = PaymentsApp(
        payments=Payments(db["payments"]),
        reviews=Reviews(db["reviews"]),
        bank=BankTransactions(db["bank_transactions"]),
        statements=Statements(db["statements"]),
        stored_methods=StoredMethods(db["stored_methods"]),
        callbacks=Callbacks(db["provider_callbacks"]),
        products=ProductReplica(db["catalog_products"]),
        methods={name: plugin.create(context) for name, plugin in plugins.items()},
        clock=clock,
        policies=Policies(
            public_base_url=context.public_base_url,
            default_retry_days=tuple(settings.default_retry_days),
        ),
        on_events=runtime.wake_relay,
    )
    scheduler = ChargeScheduler(app, interval_seconds=settings.scheduler_interval_seconds)
    return Composed(runtime, app, scheduler)


async def ensure_indexes(app: PaymentsApp) -> None:
    await app.payments.ensure_indexes()
    await app.reviews.ensure_indexes()
    await app.stored_methods.ensure_indexes()


def build(settings: PaymentsSettings | None = None, clock: Clock | None = None) -> BuiltService:
    settings = settings or PaymentsSettings()
    composed = compose(settings, clock)
    runtime, app = composed.runtime, composed.app
    runtime.produces(PAYMENTS_PAYMENT)
    runtime.with_outbox(app.payments.collection)
    runtime.subscribe(ORDERS_ORDER, app.on_order_event)
    runtime.subscribe(CATALOG_PRODUCT, app.on_catalog_event)
    runtime.in_background(composed.scheduler.run)
    runtime.on_clock_moved(composed.scheduler.wake)

    async def indexes() -> None:
        await ensure_indexes(app)

    runtime.on_startup(indexes)
    http = runtime.http_app(
        [
            customer_router(app, runtime.auth),
            public_router(app),
            admin_router(app, runtime.auth, load_statement_formats(settings.statement_formats)),
        ],
        title="Rinnovo payments",
        description="Payment instructions, provider callbacks, bank-statement reconciliation, "
        "automatic-renewal charges, refunds and review.",
    )
    return BuiltService(app=http, runtime=runtime, host=settings.http_host, port=settings.http_port)


class PaymentsService:
    name = NAME
    description = "Payments of orders: methods as plugins, reconciliation, renewals, review."

    def build(self) -> BuiltService:
        return build()


service = PaymentsService()
