"""The customer-area API's request and response bodies."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from rinnovo.orders.domain.card import Card
from rinnovo.orders.domain.orders import Order
from rinnovo.orders.domain.pricing import OrderKind, Quote
from rinnovo.runtime.locales import Locale

Username = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=120, pattern=r"^\S+@\S+$"),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComponentsOut(BaseModel):
    storage_gb: int
    extra_users: int
    nso: bool


class ActionsOut(BaseModel):
    renew: bool
    upgrade: bool
    reactivate: bool
    manage: bool


class AutomaticRenewalOut(BaseModel):
    enabled: bool = Field(description="The switch: on, the service renews by itself.")
    term_years: int = Field(description="The term it renews for.")
    payment_method: str | None = Field(description="The stored method it charges, when on.")
    switchable: bool = Field(
        description="Whether the switch can be moved now (the service is active or awaits "
        "its first payment)."
    )


class CardOut(BaseModel):
    """One service as its card shows it; colours and actions computed by the backend."""

    service_id: str
    username: str
    product_id: str
    status: str
    expiry_date: date | None
    expiry_warning: bool = Field(description="Show the expiry date in red.")
    days_to_expiry: int | None
    storage_quota_gb: int
    storage_used_bytes: int
    storage_used_percent: float
    storage_warning: bool = Field(description="Show the storage use in red.")
    reactivation_deadline: date | None = Field(description="Last day Reactivate is possible.")
    actions: ActionsOut
    automatic_renewal: AutomaticRenewalOut
    help_url: str = "https://help.example.it/area-clienti"

    @classmethod
    def of(cls, c: Card) -> "CardOut":
        a = c.actions
        return cls(
            service_id=c.subscription_id,
            username=c.username,
            product_id=c.product_id,
            status=c.status.value,
            expiry_date=c.expiry_date,
            expiry_warning=c.expiry_warning,
            days_to_expiry=c.days_to_expiry,
            storage_quota_gb=c.storage_quota_gb,
            storage_used_bytes=c.storage_used_bytes,
            storage_used_percent=c.storage_used_percent,
            storage_warning=c.storage_warning,
            reactivation_deadline=c.reactivation_deadline,
            actions=ActionsOut(
                renew=a.renew, upgrade=a.upgrade, reactivate=a.reactivate, manage=a.manage
            ),
            automatic_renewal=AutomaticRenewalOut(
                enabled=c.automatic_renewal.enabled,
                term_years=c.automatic_renewal.term_years,
                payment_method=c.automatic_renewal.payment_method,
                switchable=c.automatic_renewal_switchable,
            ),
        )


class QuoteLineOut(BaseModel):
    item: str
    description: str
    quantity: int
    unit_yearly_cents: int
    years: int
    days: int | None
    amount_cents: int


class DiscountOut(BaseModel):
    code: str
    description: str
    amount_cents: int


class QuoteOut(BaseModel):
    """Every amount in euro cents; ``subtotal - discount + vat == total``."""

    price_version: int = Field(description="The catalog price version used.")
    quoted_on: date
    lines: list[QuoteLineOut]
    subtotal_cents: int
    discount: DiscountOut | None
    net_cents: int
    vat_rate_basis_points: int
    vat_cents: int
    total_cents: int

    @classmethod
    def of(cls, q: Quote) -> "QuoteOut":
        return cls(
            price_version=q.price_version,
            quoted_on=q.quoted_on,
            lines=[QuoteLineOut(**vars(line)) for line in q.lines],
            subtotal_cents=q.subtotal_cents,
            discount=DiscountOut(**vars(q.discount)) if q.discount else None,
            net_cents=q.net_cents,
            vat_rate_basis_points=q.vat_rate_basis_points,
            vat_cents=q.vat_cents,
            total_cents=q.total_cents,
        )


class Accepted(Body):
    accepted: Literal[True] = Field(description="Must be true.")
    version: str = Field(
        min_length=1, max_length=50, description="The version of the text accepted."
    )


class AcceptancesIn(Body):
    general_conditions: Accepted
    unfair_terms: Accepted = Field(description="Specific approval of the *clausole vessatorie*.")
    privacy: Accepted


class HolderIn(Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: EmailStr
    locale: Locale = "it"


class CheckoutIn(Body):
    acceptances: AcceptancesIn
    holder: HolderIn | None = Field(default=None, description="Required for a first purchase.")


class AcceptanceOut(BaseModel):
    document: str
    version: str
    accepted_at: datetime


class OrderOut(BaseModel):
    order_id: str
    number: str
    kind: OrderKind
    service_id: str
    placed_at: datetime
    status: str
    total_cents: int = Field(description="The cost, VAT included.")
    quantity_gb: int = Field(description="Storage bought.")
    years: int
    payment_method: str
    payment_due: date
    quote: QuoteOut
    acceptances: list[AcceptanceOut]
    actions: dict[str, bool] = Field(description="`pay` and `cancel`, when awaiting payment.")

    @classmethod
    def of(cls, o: Order) -> "OrderOut":
        return cls(
            order_id=o.order_id,
            number=o.number,
            kind=o.kind,
            service_id=o.subscription_id,
            placed_at=o.placed_at,
            status=o.status.value,
            total_cents=o.quote.total_cents,
            quantity_gb=o.quote.components.storage_gb,
            years=o.quote.term_years if o.kind.extends_term else 0,
            payment_method=o.payment_method,
            payment_due=o.payment_due,
            quote=QuoteOut.of(o.quote),
            acceptances=[AcceptanceOut(**vars(a)) for a in o.acceptances],
            actions={"pay": o.can_pay, "cancel": o.can_cancel},
        )


class CancelIn(Body):
    confirm: bool = Field(description="Must be true: cancelling cannot be undone.")
