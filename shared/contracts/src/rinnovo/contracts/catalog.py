"""Catalog events: what can be sold and under which rules.

Both topics are compacted and keyed by id: each event carries the whole current state of
its product or code, so a new consumer rebuilds the catalog from the topics alone.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from rinnovo.contracts.envelope import Cents, Contract, Event, NonEmpty, version
from rinnovo.contracts.topic_spec import TopicSpec

Days = int
MAX_CODE_USES = 10_000
"""Uses of one limited code are counted in one document: it holds each order using it."""
UseLimit = Annotated[int, Field(ge=1, le=MAX_CODE_USES, strict=True)]


class OptionKind(StrEnum):
    STORAGE = "storage"
    EXTRA_USERS = "extra_users"
    NSO = "nso"


class OptionSpec(Contract):
    """An option sold with a product, priced per unit and per year."""

    option_id: NonEmpty
    kind: OptionKind
    name: NonEmpty
    unit: NonEmpty = Field(description="What one unit is: `GB`, `user`, `module`.")
    step: int = Field(ge=1, description="Units are bought in multiples of this (GB steps).")
    included: int = Field(ge=0, description="Units included in the base price.")
    max_quantity: int = Field(ge=0, description="Most units a service may hold.")


class PriceVersion(Contract):
    """Yearly prices from ``effective_from`` (a Europe/Rome date) until the next version."""

    version: int = Field(ge=1)
    effective_from: date
    base_yearly_cents: Cents
    option_unit_yearly_cents: dict[str, Cents] = Field(
        description="Yearly price of one unit of each option, by option id."
    )


class VatRule(Contract):
    rate_basis_points: int = Field(ge=0, le=10_000, description="2200 is 22 %.")
    rounding: Literal["half_up"] = "half_up"


class ProductPolicy(Contract):
    """Time and usage rules of a product; the other services read them from here."""

    expiry_warning_days: Days = Field(ge=0, description="Expiry shown red from this many days.")
    storage_warning_percent: int = Field(ge=1, le=100, description="Storage red above this.")
    reactivation_window_days: Days = Field(ge=0, description="Days after expiry to reactivate.")
    reminder_days_before_expiry: tuple[Days, ...] = Field(
        description="Reminders while automatic renewal is off, in days before expiry."
    )
    window_closing_warning_days: Days = Field(
        ge=0, description="Warning this many days before the reactivation window closes."
    )
    auto_renewal_lead_days: Days = Field(ge=0, description="Automatic renewal charged then.")
    auto_renewal_notice_days: Days = Field(
        default=7,
        ge=1,
        le=60,
        description="The customer is told of an automatic-renewal charge this many days before "
        "it (amount, method, how to switch it off).",
    )
    auto_renewal_retry_days: tuple[Days, ...] = Field(
        description="Days after a failed automatic-renewal charge to try again."
    )
    unpaid_order_timeout_days: Days = Field(ge=1, description="Unpaid orders cancelled after.")


class ProductSnapshot(Contract):
    product_id: NonEmpty
    name: NonEmpty
    description: str = ""
    promotional: bool
    active: bool
    allowed_terms_years: tuple[int, ...]
    options: tuple[OptionSpec, ...]
    price_versions: tuple[PriceVersion, ...] = Field(
        description="Every price version, oldest first; past quotes name the one they used."
    )
    vat: VatRule
    policy: ProductPolicy


class ProductSnapshotPublished(Event):
    type: Literal["catalog.product.snapshot"] = "catalog.product.snapshot"
    schema_version: int = version(2)
    payload: ProductSnapshot


class DiscountKind(StrEnum):
    PERCENT = "percent"
    FIXED_CENTS = "fixed_cents"


class OrderKindScope(StrEnum):
    FIRST_PURCHASE = "first_purchase"
    RENEWAL = "renewal"
    BOTH = "both"


class ConventionCodeSnapshot(Contract):
    code: NonEmpty
    description: str = ""
    discount_kind: DiscountKind
    discount_value: int = Field(
        ge=0, strict=True, description="Basis points for percent (1000 = 10 %), else cents."
    )
    valid_from: date
    valid_to: date
    product_ids: tuple[str, ...]
    terms_years: tuple[int, ...] = Field(description="Terms it applies to; empty means all.")
    applies_to: OrderKindScope
    revoked: bool
    max_uses: UseLimit | None = Field(
        default=None,
        description="Orders awaiting payment or paid that may use it in all; None: no limit.",
    )
    max_uses_per_customer: UseLimit | None = Field(
        default=None, description="The same, for each customer; None: no limit."
    )


class ConventionCodeSnapshotPublished(Event):
    type: Literal["catalog.convention_code.snapshot"] = "catalog.convention_code.snapshot"
    schema_version: int = version(2)
    payload: ConventionCodeSnapshot


CATALOG_PRODUCT = TopicSpec(
    name="catalog.product.v1",
    producer="catalog",
    events=(ProductSnapshotPublished,),
    compacted=True,
    description="Current state of each product, keyed by product id.",
)
CATALOG_CONVENTION_CODE = TopicSpec(
    name="catalog.convention-code.v1",
    producer="catalog",
    events=(ConventionCodeSnapshotPublished,),
    compacted=True,
    description="Current state of each convention code, keyed by the code.",
)
