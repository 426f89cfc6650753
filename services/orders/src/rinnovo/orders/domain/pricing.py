"""Quotes: every line, the discount, VAT and the total, in integer cents.

Prices come from the price version of the catalog replica effective on the quote's Rome date,
and the quote names that version, so it can always be explained later. Lines are priced
per year for purchases and renewals; an upgrade is priced pro rata for the days left until
the expiry date (``calendar.days_left``, as the card shows them; a 365-day year), line by
line, rounded half up. The discount applies to the
sum of the lines, VAT to what is left; each rounded half up once, so the total reconciles:
``sum(lines) - discount + vat == total``.
"""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from fractions import Fraction

from rinnovo.contracts.catalog import (
    ConventionCodeSnapshot,
    DiscountKind,
    OptionKind,
    OptionSpec,
    OrderKindScope,
    PriceVersion,
    ProductSnapshot,
)
from rinnovo.orders.domain.calendar import days_left
from rinnovo.orders.domain.money import round_half_up, share
from rinnovo.orders.domain.subscription import Components

DAYS_PER_YEAR = 365


class OrderKind(StrEnum):
    FIRST_PURCHASE = "first_purchase"
    RENEWAL = "renewal"
    REACTIVATION = "reactivation"
    UPGRADE = "upgrade"
    AUTOMATIC_RENEWAL = "automatic_renewal"

    @property
    def extends_term(self) -> bool:
        return self is not OrderKind.UPGRADE


class QuoteRefused(ValueError):
    """The cart asks for something the product or the code does not allow."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class QuoteLine:
    item: str
    """``base`` or an option id."""
    description: str
    quantity: int
    unit_yearly_cents: int
    years: int
    days: int | None
    """Days charged pro rata (upgrades); None for whole years."""
    amount_cents: int


@dataclass(frozen=True)
class Discount:
    code: str
    description: str
    amount_cents: int


@dataclass(frozen=True)
class Quote:
    kind: OrderKind
    product_id: str
    price_version: int
    quoted_on: date
    term_years: int
    components: Components
    lines: tuple[QuoteLine, ...]
    subtotal_cents: int
    discount: Discount | None
    net_cents: int
    vat_rate_basis_points: int
    vat_cents: int
    total_cents: int


@dataclass(frozen=True)
class QuoteRequest:
    kind: OrderKind
    wanted: Components
    term_years: int
    today: date
    current: Components | None = None
    """What the service holds now (renewals list it; upgrades charge only the increase)."""
    expiry_date: date | None = None
    """Needed for upgrades: they are charged for the days left until it."""
    code: ConventionCodeSnapshot | None = None


def price_version_on(product: ProductSnapshot, day: date) -> PriceVersion:
    """The version effective on a day: the latest one that started on or before it."""
    effective = [v for v in product.price_versions if v.effective_from <= day]
    if not effective:
        raise QuoteRefused("product_id", f"{product.product_id} has no price on {day}")
    return max(effective, key=lambda v: v.effective_from)


def quote(product: ProductSnapshot, request: QuoteRequest) -> Quote:
    _check_sellable(product, request)
    prices = price_version_on(product, request.today)
    lines = (
        _upgrade_lines(product, prices, request)
        if request.kind is OrderKind.UPGRADE
        else _term_lines(product, prices, request)
    )
    subtotal = sum(line.amount_cents for line in lines)
    discount = _discount(product, request, subtotal) if request.code else None
    net = subtotal - (discount.amount_cents if discount else 0)
    vat = share(net, product.vat.rate_basis_points)
    return Quote(
        kind=request.kind,
        product_id=product.product_id,
        price_version=prices.version,
        quoted_on=request.today,
        term_years=request.term_years,
        components=request.wanted,
        lines=tuple(lines),
        subtotal_cents=subtotal,
        discount=discount,
        net_cents=net,
        vat_rate_basis_points=product.vat.rate_basis_points,
        vat_cents=vat,
        total_cents=net + vat,
    )


def _option(product: ProductSnapshot, kind: OptionKind) -> OptionSpec | None:
    return next((o for o in product.options if o.kind is kind), None)


def _check_sellable(product: ProductSnapshot, request: QuoteRequest) -> None:
    if not product.active and request.kind is OrderKind.FIRST_PURCHASE:
        raise QuoteRefused("product_id", f"{product.product_id} is no longer sold")
    if request.kind.extends_term and request.term_years not in product.allowed_terms_years:
        allowed = ", ".join(map(str, product.allowed_terms_years))
        raise QuoteRefused("term_years", f"{product.name} allows terms of {allowed} years")
    wanted = request.wanted
    storage = _option(product, OptionKind.STORAGE)
    users = _option(product, OptionKind.EXTRA_USERS)
    nso = _option(product, OptionKind.NSO)
    if storage is None:
        raise QuoteRefused("product_id", f"{product.product_id} sells no storage")
    if not storage.included <= wanted.storage_gb <= storage.max_quantity:
        raise QuoteRefused(
            "storage_gb", f"between {storage.included} and {storage.max_quantity} GB"
        )
    if wanted.storage_gb % storage.step:
        raise QuoteRefused("storage_gb", f"storage is sold in steps of {storage.step} GB")
    max_users = users.max_quantity if users else 0
    if not 0 <= wanted.extra_users <= max_users:
        raise QuoteRefused("extra_users", f"between 0 and {max_users}")
    if wanted.nso and (nso is None or nso.max_quantity < 1):
        raise QuoteRefused("nso", f"{product.name} has no NSO module")
    if request.kind is OrderKind.UPGRADE:
        _check_upgrade(request)


def _check_upgrade(request: QuoteRequest) -> None:
    current, wanted = request.current, request.wanted
    if current is None or request.expiry_date is None:
        raise QuoteRefused("kind", "an upgrade starts from an active service")
    if wanted.storage_gb < current.storage_gb:
        raise QuoteRefused("storage_gb", "space is reduced at renewal, not by an upgrade")
    if wanted.extra_users < current.extra_users:
        raise QuoteRefused("extra_users", "users are removed at renewal, not by an upgrade")
    if current.nso and not wanted.nso:
        raise QuoteRefused("nso", "the NSO module is dropped at renewal, not by an upgrade")
    if days_left(request.expiry_date, request.today) <= 0:
        raise QuoteRefused("kind", "no days are left before the expiry date: reactivate instead")


def _chargeable(product: ProductSnapshot, components: Components) -> list[tuple[OptionSpec, int]]:
    """Units of each option charged beyond what the base price includes."""
    quantities = {
        OptionKind.STORAGE: components.storage_gb,
        OptionKind.EXTRA_USERS: components.extra_users,
        OptionKind.NSO: int(components.nso),
    }
    return [(o, max(quantities[o.kind] - o.included, 0)) for o in product.options]


def _term_lines(
    product: ProductSnapshot, prices: PriceVersion, request: QuoteRequest
) -> list[QuoteLine]:
    years = request.term_years
    lines = [
        QuoteLine(
            "base",
            product.name,
            1,
            prices.base_yearly_cents,
            years,
            None,
            prices.base_yearly_cents * years,
        )
    ]
    for option, units in _chargeable(product, request.wanted):
        if units:
            unit = prices.option_unit_yearly_cents[option.option_id]
            lines.append(
                QuoteLine(
                    option.option_id, option.name, units, unit, years, None, unit * units * years
                )
            )
    return lines


def _upgrade_lines(
    product: ProductSnapshot, prices: PriceVersion, request: QuoteRequest
) -> list[QuoteLine]:
    assert request.current is not None and request.expiry_date is not None
    days = days_left(request.expiry_date, request.today)
    before = dict(_chargeable(product, request.current))
    lines = []
    for option, units in _chargeable(product, request.wanted):
        added = units - before.get(option, 0)
        if added > 0:
            unit = prices.option_unit_yearly_cents[option.option_id]
            amount = round_half_up(Fraction(unit * added * days, DAYS_PER_YEAR))
            lines.append(QuoteLine(option.option_id, option.name, added, unit, 0, days, amount))
    return lines


def _discount(product: ProductSnapshot, request: QuoteRequest, subtotal: int) -> Discount:
    code = request.code
    assert code is not None
    refuse = _code_refusal(product, request, code)
    if refuse:
        raise QuoteRefused("convention_code", refuse)
    if code.discount_kind == DiscountKind.PERCENT:
        amount = share(subtotal, code.discount_value)
    else:
        amount = min(code.discount_value, subtotal)
    return Discount(code.code, code.description, amount)


def _code_refusal(
    product: ProductSnapshot, request: QuoteRequest, code: ConventionCodeSnapshot
) -> str | None:
    """Why a code does not apply to this cart, in words a customer understands."""
    if code.revoked:
        return f"the code {code.code} has been withdrawn"
    if request.today < code.valid_from:
        return f"the code {code.code} is valid from {code.valid_from:%d/%m/%Y}"
    if request.today > code.valid_to:
        return f"the code {code.code} expired on {code.valid_to:%d/%m/%Y}"
    if product.product_id not in code.product_ids:
        return f"the code {code.code} does not apply to {product.name}"
    if code.terms_years and request.term_years not in code.terms_years:
        terms = ", ".join(map(str, code.terms_years))
        return f"the code {code.code} applies only to terms of {terms} years"
    if request.kind is OrderKind.UPGRADE:
        return "convention codes apply to purchases and renewals, not to upgrades"
    first = request.kind is OrderKind.FIRST_PURCHASE
    if code.applies_to == OrderKindScope.FIRST_PURCHASE and not first:
        return f"the code {code.code} applies only to first purchases"
    if code.applies_to == OrderKindScope.RENEWAL and first:
        return f"the code {code.code} applies only to renewals"
    return None
