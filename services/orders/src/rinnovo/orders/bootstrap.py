"""The orders service's composition root."""

from functools import partial

from pydantic_settings import SettingsConfigDict

from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.contracts.topics import CATALOG_CONVENTION_CODE, CATALOG_PRODUCT
from rinnovo.orders.adapters.catalog_replica import Replica
from rinnovo.orders.entrypoints.http import catalog_router
from rinnovo.orders.handlers import on_code_snapshot, on_product_snapshot
from rinnovo.runtime.clock import Clock, SystemClock
from rinnovo.runtime.plugins import BuiltService
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings

NAME = "orders"


class OrdersSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_ORDERS_", extra="ignore")

    http_port: int = 8002


def build(settings: OrdersSettings | None = None, clock: Clock | None = None) -> BuiltService:
    settings = settings or OrdersSettings()
    clock = clock or SystemClock()
    runtime = ServiceRuntime(NAME, settings, clock)
    products = Replica(runtime.db["catalog_products"], ProductSnapshot)
    codes = Replica(runtime.db["catalog_convention_codes"], ConventionCodeSnapshot)
    runtime.subscribe(CATALOG_PRODUCT, partial(on_product_snapshot, replica=products))
    runtime.subscribe(CATALOG_CONVENTION_CODE, partial(on_code_snapshot, replica=codes))
    app = runtime.http_app(
        [catalog_router(products)],
        title="Rinnovo orders",
        description="Services, carts and orders of the customer area.",
    )
    return BuiltService(app=app, runtime=runtime, host=settings.http_host, port=settings.http_port)


class OrdersService:
    name = NAME
    description = "Customers' services and orders, their lifecycle, and the customer-area API."

    def build(self) -> BuiltService:
        return build()


service = OrdersService()
