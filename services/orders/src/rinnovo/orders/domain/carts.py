"""Carts: what a customer is about to buy, still open to changes until checkout."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime

from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.orders.domain.card import Card
from rinnovo.orders.domain.pricing import OrderKind, Quote, QuoteRefused, QuoteRequest, quote
from rinnovo.orders.domain.subscription import Components, Subscription


@dataclass(frozen=True)
class Cart:
    cart_id: str
    customer_id: str
    kind: OrderKind
    product_id: str
    subscription_id: str | None
    """None for a first purchase: the service is created at checkout."""
    username: str | None
    current: Components | None
    """The components active on the service when the cart opened."""
    wanted: Components
    term_years: int
    payment_method: str | None
    automatic_renewal: bool
    convention_code: str | None
    created_at: datetime


COMPONENTS = ("storage_gb", "extra_users", "nso")
TERM_CHOICES = ("term_years", "automatic_renewal", "convention_code")
"""What a new term is bought with: its length, renewing it automatically, a discount."""
CHANGEABLE: dict[OrderKind, tuple[str, ...]] = {
    OrderKind.FIRST_PURCHASE: (*COMPONENTS, "payment_method", *TERM_CHOICES),
    OrderKind.RENEWAL: (*COMPONENTS, "payment_method", *TERM_CHOICES),
    OrderKind.REACTIVATION: (*COMPONENTS, "payment_method", *TERM_CHOICES),
    OrderKind.UPGRADE: (*COMPONENTS, "payment_method"),
}
"""The fields a change of each kind of cart may name: an upgrade buys no term, so it has
no term, no automatic renewal and no convention code."""


def check_changeable(kind: OrderKind, fields: Iterable[str]) -> None:
    """Refuse, naming it, a field that does not apply to this kind of cart."""
    allowed = CHANGEABLE.get(kind, ())
    for field in fields:
        if field not in allowed:
            raise QuoteRefused(field, f"does not apply to {kind.value} carts")


def action_allowed(kind: OrderKind, shown: Card) -> bool:
    """A cart starts only from an action the service's card offers."""
    return {
        OrderKind.RENEWAL: shown.actions.renew,
        OrderKind.REACTIVATION: shown.actions.reactivate,
        OrderKind.UPGRADE: shown.actions.upgrade,
    }.get(kind, False)


def cart_for_service(
    cart_id: str, kind: OrderKind, service: Subscription, shown: Card, at: datetime
) -> Cart:
    if not action_allowed(kind, shown):
        raise QuoteRefused("kind", f"{kind.value} is not available for this service now")
    return Cart(
        cart_id=cart_id,
        customer_id=service.customer_id,
        kind=kind,
        product_id=service.product_id,
        subscription_id=service.subscription_id,
        username=service.username,
        current=service.components,
        wanted=service.components,
        term_years=service.auto_renewal.term_years,
        payment_method=service.auto_renewal.payment_method,
        automatic_renewal=service.auto_renewal.enabled,
        convention_code=None,
        created_at=at,
    )


def first_purchase_cart(
    cart_id: str, customer_id: str, product: ProductSnapshot, username: str, at: datetime
) -> Cart:
    included = {o.kind.value: o.included for o in product.options}
    return Cart(
        cart_id=cart_id,
        customer_id=customer_id,
        kind=OrderKind.FIRST_PURCHASE,
        product_id=product.product_id,
        subscription_id=None,
        username=username,
        current=None,
        wanted=Components(
            storage_gb=included.get("storage", 0),
            extra_users=included.get("extra_users", 0),
            nso=bool(included.get("nso", 0)),
        ),
        term_years=min(product.allowed_terms_years),
        payment_method=None,
        automatic_renewal=False,
        convention_code=None,
        created_at=at,
    )


def quote_cart(
    cart: Cart,
    product: ProductSnapshot,
    today: date,
    expiry_date: date | None,
    code: ConventionCodeSnapshot | None,
) -> Quote:
    if cart.convention_code and code is None:
        raise QuoteRefused("convention_code", f"the code {cart.convention_code} does not exist")
    return quote(
        product,
        QuoteRequest(
            kind=cart.kind,
            wanted=cart.wanted,
            term_years=cart.term_years,
            today=today,
            current=cart.current,
            expiry_date=expiry_date,
            code=code,
        ),
    )


def changed(cart: Cart, **changes: object) -> Cart:
    return replace(cart, **changes)  # type: ignore[arg-type]
