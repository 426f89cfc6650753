"""Quote arithmetic to the cent: lines, discount, VAT, pro rata; examples and properties."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.contracts.catalog import ConventionCodeSnapshot, OrderKindScope, PriceVersion
from rinnovo.orders.domain.calendar import add_years
from rinnovo.orders.domain.money import round_half_up, share
from rinnovo.orders.domain.pricing import (
    OrderKind,
    QuoteRefused,
    QuoteRequest,
    price_version_on,
    quote,
)
from rinnovo.orders.domain.subscription import Components

SEED = read_seed()
STANDARD = next(p for p in SEED.products if p.product_id == "fe-standard")
PROMO = next(p for p in SEED.products if p.product_id == "fe-promo")
CODE = SEED.convention_codes[0]  # 10 % on standard and business, first purchases and renewals
TODAY = date(2026, 11, 22)


def renewal(**changes: object) -> QuoteRequest:
    base: dict[str, object] = {
        "kind": OrderKind.RENEWAL,
        "wanted": Components(storage_gb=5, extra_users=1, nso=True),
        "term_years": 3,
        "today": TODAY,
        "current": Components(storage_gb=1, extra_users=0, nso=False),
    }
    return QuoteRequest(**{**base, **changes})  # type: ignore[arg-type]


def test_a_three_year_renewal_with_options_and_a_code() -> None:
    q = quote(STANDARD, renewal(code=CODE))
    # 3 years of: base 25,00; 4 GB beyond the included one at 10,00; one user 5,00; NSO 15,00
    assert [(line.item, line.amount_cents) for line in q.lines] == [
        ("base", 7500),
        ("storage", 12000),
        ("extra-user", 1500),
        ("nso", 4500),
    ]
    assert q.subtotal_cents == 25500
    assert q.discount is not None and q.discount.amount_cents == 2550
    assert q.net_cents == 22950
    assert q.vat_cents == 5049  # 22 % of 229,50 = 50,49
    assert q.total_cents == 27999
    assert q.price_version == 1


def upgrade(expiry: date, today: date = TODAY) -> QuoteRequest:
    return QuoteRequest(
        kind=OrderKind.UPGRADE,
        wanted=Components(storage_gb=3, extra_users=0, nso=True),
        term_years=1,
        today=today,
        current=Components(storage_gb=1, extra_users=0, nso=False),
        expiry_date=expiry,
    )


def test_an_upgrade_is_charged_for_the_days_left_only() -> None:
    q = quote(STANDARD, upgrade(TODAY + timedelta(days=100)))
    # 2 GB x 10,00 x 100/365 = 5,479... -> 5,48; NSO 15,00 x 100/365 = 4,109... -> 4,11
    assert [(line.item, line.days, line.amount_cents) for line in q.lines] == [
        ("storage", 100, 548),
        ("nso", 100, 411),
    ]
    assert q.total_cents == 959 + share(959, 2200)


def test_an_upgrade_on_the_first_day_of_a_year_costs_one_year() -> None:
    """A one-year term bought today runs to the same day next year: 365 days left, priced as
    exactly one year of the added units."""
    q = quote(STANDARD, upgrade(add_years(TODAY, 1)))
    assert [(line.item, line.days, line.amount_cents) for line in q.lines] == [
        ("storage", 365, 2000),
        ("nso", 365, 1500),
    ]


def test_no_upgrade_on_the_expiry_day_none_left_to_charge() -> None:
    """The card hides Upgrade from the expiry day; a quote agrees."""
    with pytest.raises(QuoteRefused) as refused:
        quote(STANDARD, upgrade(TODAY))
    assert refused.value.field == "kind"
    assert quote(STANDARD, upgrade(TODAY + timedelta(days=1))).lines[0].days == 1


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (renewal(term_years=11), "term_years"),
        (renewal(wanted=Components(storage_gb=0, extra_users=0, nso=False)), "storage_gb"),
        (renewal(wanted=Components(storage_gb=1, extra_users=-1, nso=False)), "extra_users"),
        (renewal(wanted=Components(storage_gb=1, extra_users=51, nso=False)), "extra_users"),
        (renewal(code=CODE.model_copy(update={"revoked": True})), "convention_code"),
        (
            renewal(code=CODE.model_copy(update={"valid_to": TODAY - timedelta(days=1)})),
            "convention_code",
        ),
        (
            renewal(code=CODE.model_copy(update={"applies_to": OrderKindScope.FIRST_PURCHASE})),
            "convention_code",
        ),
    ],
)
def test_what_the_product_or_code_does_not_allow_is_refused_naming_the_field(
    request_: QuoteRequest, field: str
) -> None:
    with pytest.raises(QuoteRefused) as refused:
        quote(STANDARD, request_)
    assert refused.value.field == field


def test_promotional_products_allow_one_or_two_years() -> None:
    assert quote(PROMO, renewal(term_years=2, code=None)).term_years == 2
    with pytest.raises(QuoteRefused, match="term_years"):
        quote(PROMO, renewal(term_years=3))


def test_a_code_for_other_products_is_refused_with_the_reason() -> None:
    with pytest.raises(QuoteRefused, match="does not apply to Fatturazione Elettronica Promo"):
        quote(PROMO, renewal(term_years=1, code=CODE))


def test_the_price_version_of_the_quote_day_is_used_and_named() -> None:
    raised = PriceVersion(
        version=2,
        effective_from=TODAY + timedelta(days=1),
        base_yearly_cents=3000,
        option_unit_yearly_cents=STANDARD.price_versions[0].option_unit_yearly_cents,
    )
    product = STANDARD.model_copy(update={"price_versions": (*STANDARD.price_versions, raised)})
    assert price_version_on(product, TODAY).version == 1
    assert quote(product, renewal()).price_version == 1
    tomorrow = quote(product, renewal(today=TODAY + timedelta(days=1)))
    assert (tomorrow.price_version, tomorrow.lines[0].amount_cents) == (2, 9000)


@given(st.fractions(min_value=0, max_value=10**9))
def test_rounding_is_half_up_and_within_half_a_cent(amount: Fraction) -> None:
    rounded = round_half_up(amount)
    assert abs(Fraction(rounded) - amount) <= Fraction(1, 2)
    if amount - int(amount) == Fraction(1, 2):
        assert rounded == int(amount) + 1


codes = st.builds(
    ConventionCodeSnapshot,
    code=st.just("C"),
    discount_kind=st.sampled_from(["percent", "fixed_cents"]),
    discount_value=st.integers(1, 10_000),
    valid_from=st.just(date(2020, 1, 1)),
    valid_to=st.just(date(2030, 1, 1)),
    product_ids=st.just(("fe-standard",)),
    terms_years=st.just(()),
    applies_to=st.just("both"),
    revoked=st.just(False),
)


@given(
    storage=st.integers(1, 100),
    users=st.integers(0, 50),
    nso=st.booleans(),
    years=st.integers(1, 10),
    code=st.none() | codes,
)
def test_every_quote_reconciles_to_the_cent(
    storage: int, users: int, nso: bool, years: int, code: ConventionCodeSnapshot | None
) -> None:
    q = quote(
        STANDARD,
        renewal(wanted=Components(storage, users, nso), term_years=years, code=code),
    )
    assert sum(line.amount_cents for line in q.lines) == q.subtotal_cents
    discount = q.discount.amount_cents if q.discount else 0
    assert 0 <= discount <= q.subtotal_cents
    assert q.net_cents == q.subtotal_cents - discount
    assert q.vat_cents == round_half_up(Fraction(q.net_cents * 22, 100))
    assert q.total_cents == q.net_cents + q.vat_cents


@given(days=st.integers(1, 3650), added_gb=st.integers(1, 99))
def test_pro_rata_never_exceeds_a_full_year_of_the_added_units(days: int, added_gb: int) -> None:
    expiry = TODAY + timedelta(days=days)
    q = quote(
        STANDARD,
        QuoteRequest(
            kind=OrderKind.UPGRADE,
            wanted=Components(storage_gb=1 + added_gb, extra_users=0, nso=False),
            term_years=1,
            today=TODAY,
            current=Components(storage_gb=1, extra_users=0, nso=False),
            expiry_date=expiry,
        ),
    )
    (line,) = q.lines
    exact = Fraction(1000 * added_gb * days, 365)
    assert abs(line.amount_cents - exact) <= Fraction(1, 2)
