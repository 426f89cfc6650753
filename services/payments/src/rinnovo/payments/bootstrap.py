"""The payments service's composition root."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from rinnovo.contracts.topics import CATALOG_PRODUCT, ORDERS_ORDER, PAYMENTS_PAYMENT
from rinnovo.payments.adapters.repositories import Stores, stores
from rinnovo.payments.adapters.statement_formats import load_statement_formats
from rinnovo.payments.adapters.stripe_gateway import StripeGateway
from rinnovo.payments.entrypoints.events import on_catalog_event, on_order_event
from rinnovo.payments.entrypoints.http import (
    MAX_STATEMENT_BYTES,
    admin_router,
    customer_router,
    public_router,
)
from rinnovo.payments.entrypoints.scheduler import ChargeScheduler
from rinnovo.payments.methods.base import METHODS_GROUP, MethodContext, MethodPlugin
from rinnovo.payments.methods.registry import Methods
from rinnovo.payments.service_layer.context import Context
from rinnovo.payments.service_layer.ports import Policies
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.plugins import BuiltService, load_plugins
from rinnovo.runtime.safety import InsecureSetting
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings

NAME = "payments"
OFFLINE_METHODS = ("bank_transfer", "postal_slip")
STRIPE_METHODS = ("card", "paypal", "sepa_direct_debit")


def configured(secret: SecretStr | None) -> bool:
    """Set, and not one of the placeholders older settings files carry."""
    value = secret.get_secret_value().strip() if secret is not None else ""
    return bool(value) and not value.endswith("_not_configured")


class PaymentsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_PAYMENTS_", extra="ignore")

    http_port: int = 8003
    public_base_url: str = Field(
        default="http://127.0.0.1:8003", description="How customers reach this API (links)."
    )
    methods: list[str] | None = Field(
        default=None,
        description="Allow-list of the payment-method plugins to load; by default the offline "
        "ones, and Stripe's once its keys are set.",
    )
    beneficiary_name: str = "Rinnovo S.r.l."
    beneficiary_iban: str = "IT60X0542811101000000123456"
    beneficiary_bic: str = "BPMOIT22XXX"
    postal_account: str = "000012345678"
    stripe_api_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, description="Signs Stripe's callbacks: whoever knows it can mark orders paid."
    )
    stripe_api_base: str | None = Field(
        default=None, description="Another Stripe API address (a local fake in tests)."
    )
    stripe_return_url: str = "http://127.0.0.1:8003/v1/payments?order_id={order_id}"
    callback_tolerance_seconds: int = Field(default=300, ge=1)

    def enabled_methods(self) -> list[str]:
        """The methods to load. Raises ``InsecureSetting`` for a provider's method whose keys
        are missing or placeholders: a callback signed with a known key would mark orders paid.
        """
        stripe_ready = configured(self.stripe_api_key) and configured(self.stripe_webhook_secret)
        if self.methods is None:
            return [*OFFLINE_METHODS, *(STRIPE_METHODS if stripe_ready else ())]
        on_stripe = sorted(set(self.methods) & set(STRIPE_METHODS))
        if on_stripe and not stripe_ready:
            missing = "WEBHOOK_SECRET" if configured(self.stripe_api_key) else "API_KEY"
            raise InsecureSetting(
                f"RINNOVO_PAYMENTS_STRIPE_{missing}",
                f"not set, or a placeholder, while {', '.join(on_stripe)} is enabled",
            )
        return self.methods

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
    context: Context
    stores: Stores
    scheduler: ChargeScheduler


def compose(settings: PaymentsSettings, clock: Clock | None = None) -> Composed:
    """The use cases on their stores, the method plugins, the outbox and the scheduler
    (not yet running): shared by the service and the command line."""
    enabled = settings.enabled_methods()
    runtime = ServiceRuntime(NAME, settings, clock)
    kept = stores(runtime.db)

    @cache
    def stripe() -> StripeGateway:
        assert settings.stripe_api_key is not None and settings.stripe_webhook_secret is not None
        return StripeGateway(
            api_key=settings.stripe_api_key.get_secret_value(),
            webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
            api_base=settings.stripe_api_base,
            tolerance=timedelta(seconds=settings.callback_tolerance_seconds),
            return_url=settings.stripe_return_url,
        )

    methods = MethodContext(
        beneficiary=settings.beneficiary_name,
        iban=settings.beneficiary_iban,
        bic=settings.beneficiary_bic,
        postal_account=settings.postal_account,
        public_base_url=settings.public_base_url.rstrip("/"),
        stripe=stripe,
    )
    plugins = load_plugins(METHODS_GROUP, enabled, MethodPlugin)  # type: ignore[type-abstract]
    wake = runtime.wake_relay
    context = Context(
        payments=Changes(kept.payments, wake),
        reviews=Changes(kept.reviews),
        bank=Changes(kept.bank),
        statements=Changes(kept.statements),
        stored_methods=Changes(kept.stored_methods),
        callbacks=Changes(kept.callbacks),
        products=kept.products,
        methods=Methods({name: plugin.create(methods) for name, plugin in plugins.items()}),
        clock=runtime.clock,
        policies=Policies(
            public_base_url=methods.public_base_url,
            default_retry_days=tuple(settings.default_retry_days),
        ),
    )
    runtime.produces(PAYMENTS_PAYMENT)
    runtime.with_outbox(kept.payments.collection)
    scheduler = ChargeScheduler(context, interval_seconds=settings.scheduler_interval_seconds)
    return Composed(runtime, context, kept, scheduler)


def build(settings: PaymentsSettings | None = None, clock: Clock | None = None) -> BuiltService:
    settings = settings or PaymentsSettings()
    composed = compose(settings, clock)
    runtime, ctx, scheduler = composed.runtime, composed.context, composed.scheduler
    runtime.subscribe(ORDERS_ORDER, on_order_event(ctx))
    runtime.subscribe(CATALOG_PRODUCT, on_catalog_event(ctx))
    runtime.in_background(scheduler.run)
    runtime.on_clock_moved(scheduler.wake)
    runtime.on_startup(composed.stores.ensure_indexes)
    runtime.accept_larger_bodies("/v1/admin/statements", MAX_STATEMENT_BYTES)
    http = runtime.http_app(
        [
            customer_router(ctx, runtime.auth),
            public_router(ctx),
            admin_router(ctx, runtime.auth, load_statement_formats(settings.statement_formats)),
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
