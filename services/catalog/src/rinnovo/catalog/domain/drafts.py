"""What an administrator (or the seed file) submits: the published models, read strictly.

The published snapshots ignore unknown fields so that old consumers keep reading new events.
Input is the other way round: a misspelt field must be refused, not silently dropped, and a
term or an amount must be a real integer (``"3"``, ``2.0`` and ``true`` are refused).
"""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from rinnovo.contracts.catalog import (
    ConventionCodeSnapshot,
    DiscountKind,
    OptionSpec,
    OrderKindScope,
    PriceVersion,
    ProductPolicy,
    ProductSnapshot,
    UseLimit,
    VatRule,
)
from rinnovo.contracts.envelope import NonEmpty
from rinnovo.runtime.bounds import MAX_DAYS, MAX_UNITS, Cents, Day, Days, TermYears, Units

STRICT_INPUT = ConfigDict(frozen=True, extra="forbid")

Years = TermYears
CodeText = Annotated[NonEmpty, AfterValidator(str.upper)]
"""Codes are typed by customers: stored in capitals, so ``ordine-x`` and ``ORDINE-X`` match."""


class OptionDraft(OptionSpec):
    model_config = STRICT_INPUT

    step: int = Field(
        ge=1, le=MAX_UNITS, strict=True, description="Units are bought in multiples of this."
    )
    included: Units = Field(description="Units included in the base price.")
    max_quantity: Units = Field(description="Most units a service may hold.")


class PriceVersionDraft(PriceVersion):
    model_config = STRICT_INPUT

    version: int = Field(ge=1, le=1_000_000, strict=True)
    effective_from: Day
    base_yearly_cents: Cents
    option_unit_yearly_cents: dict[str, Cents] = Field(
        description="Yearly price of one unit of each option, by option id."
    )


class VatDraft(VatRule):
    model_config = STRICT_INPUT


class PolicyDraft(ProductPolicy):
    model_config = STRICT_INPUT

    expiry_warning_days: Days = Field(description="Expiry shown red from this many days.")
    reactivation_window_days: Days = Field(description="Days after expiry to reactivate.")
    reminder_days_before_expiry: tuple[Days, ...] = Field(
        max_length=20,
        description="Reminders while automatic renewal is off, in days before expiry.",
    )
    window_closing_warning_days: Days = Field(
        description="Warning this many days before the reactivation window closes."
    )
    auto_renewal_lead_days: Days = Field(description="Automatic renewal charged then.")
    auto_renewal_retry_days: tuple[Days, ...] = Field(
        max_length=20, description="Days after a failed automatic-renewal charge to try again."
    )
    unpaid_order_timeout_days: int = Field(
        ge=1, le=MAX_DAYS, strict=True, description="Unpaid orders cancelled after."
    )

    def published(self) -> ProductPolicy:
        return ProductPolicy.model_validate(self.model_dump())


class ProductChanges(BaseModel):
    """Everything about a product an administrator may replace; prices have their own verb."""

    model_config = STRICT_INPUT

    name: NonEmpty
    description: str = ""
    promotional: bool
    active: bool
    allowed_terms_years: tuple[Years, ...]
    options: tuple[OptionDraft, ...]
    vat: VatDraft
    policy: PolicyDraft


class ProductDraft(ProductSnapshot):
    """A new product with its price history so far (one version, usually)."""

    model_config = STRICT_INPUT

    active: bool = True
    allowed_terms_years: tuple[Years, ...]
    options: tuple[OptionDraft, ...]
    price_versions: tuple[PriceVersionDraft, ...]
    vat: VatDraft
    policy: PolicyDraft

    def published(self) -> ProductSnapshot:
        return ProductSnapshot.model_validate(self.model_dump())


class NewPriceVersion(BaseModel):
    """Prices from a future day on; the version number is the next one, given by the catalog."""

    model_config = STRICT_INPUT

    effective_from: Day = Field(description="First day (Europe/Rome) of the new prices.")
    base_yearly_cents: Cents
    option_unit_yearly_cents: dict[str, Cents] = Field(
        description="Yearly price of one unit of each option, by option id."
    )


class CodeChanges(BaseModel):
    """Everything about a convention code an administrator may replace."""

    model_config = STRICT_INPUT

    description: str = ""
    discount_kind: DiscountKind
    discount_value: Cents = Field(description="Basis points for percent (1000 = 10 %), else cents.")
    valid_from: Day
    valid_to: Day
    product_ids: tuple[str, ...]
    terms_years: tuple[Years, ...] = Field(
        default=(), description="Terms it applies to; empty means all."
    )
    applies_to: OrderKindScope
    max_uses: UseLimit | None = Field(
        default=None, description="Orders that may use it in all (at most 10000); null: no limit."
    )
    max_uses_per_customer: UseLimit | None = Field(
        default=None, description="Orders each customer may use it for; null: no limit."
    )


class CodeDraft(ConventionCodeSnapshot):
    """A new convention code."""

    model_config = STRICT_INPUT

    code: CodeText
    discount_value: Cents = Field(description="Basis points for percent (1000 = 10 %), else cents.")
    valid_from: Day
    valid_to: Day
    terms_years: tuple[Years, ...] = ()
    revoked: bool = False

    def published(self) -> ConventionCodeSnapshot:
        return ConventionCodeSnapshot.model_validate(self.model_dump())
