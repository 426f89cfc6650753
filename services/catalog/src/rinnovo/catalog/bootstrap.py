"""The catalog's composition root: settings, stores, seed, API, events."""

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.catalog.adapters.snapshots import EntryCodec, Listing
from rinnovo.catalog.entrypoints.admin_http import admin_router
from rinnovo.catalog.entrypoints.http import public_router
from rinnovo.catalog.service_layer.entries import Catalog, Kind
from rinnovo.catalog.service_layer.seed import load_seed
from rinnovo.contracts.catalog import (
    ConventionCodeSnapshot,
    ConventionCodeSnapshotPublished,
    ProductSnapshot,
    ProductSnapshotPublished,
)
from rinnovo.contracts.topics import CATALOG_CONVENTION_CODE, CATALOG_PRODUCT
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.clock import Clock
from rinnovo.runtime.mongo_aggregates import MongoAggregates
from rinnovo.runtime.plugins import BuiltService
from rinnovo.runtime.service import ServiceRuntime
from rinnovo.runtime.settings import ServiceSettings

NAME = "catalog"


class CatalogSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="RINNOVO_CATALOG_", extra="ignore")

    http_port: int = 8001
    seed_file: Path | None = None
    """A seed catalog other than the one shipped with the service."""


def build(settings: CatalogSettings | None = None, clock: Clock | None = None) -> BuiltService:
    settings = settings or CatalogSettings()
    runtime = ServiceRuntime(NAME, settings, clock)
    clock = runtime.clock
    products_codec, codes_codec = EntryCodec(ProductSnapshot), EntryCodec(ConventionCodeSnapshot)
    products = MongoAggregates(runtime.db["products"], products_codec)
    codes = MongoAggregates(runtime.db["convention_codes"], codes_codec)
    wake = runtime.wake_relay
    catalog = Catalog(
        products=Kind(Changes(products, wake), ProductSnapshotPublished, "product_id"),
        codes=Kind(Changes(codes, wake), ConventionCodeSnapshotPublished, "code"),
        clock=clock,
    )
    runtime.produces(CATALOG_PRODUCT, CATALOG_CONVENTION_CODE)
    runtime.with_outbox(products.collection)
    runtime.with_outbox(codes.collection)

    async def apply_seed() -> None:
        await load_seed(catalog, read_seed(settings.seed_file))

    runtime.on_startup(apply_seed)
    product_list = Listing(products.collection, products_codec)
    code_list = Listing(codes.collection, codes_codec)
    app = runtime.http_app(
        [
            public_router(catalog, product_list),
            admin_router(catalog, product_list, code_list, runtime.auth),
        ],
        title="Rinnovo catalog",
        description="Products, options, prices, policies and convention codes.",
    )
    return BuiltService(app=app, runtime=runtime, host=settings.http_host, port=settings.http_port)


class CatalogService:
    name = NAME
    description = "What can be sold and under which rules; published as compacted snapshots."

    def settings(self) -> CatalogSettings:
        return CatalogSettings()

    def build(self) -> BuiltService:
        return build(self.settings())


service = CatalogService()
