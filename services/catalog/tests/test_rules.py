"""The catalog's validation rules, as properties over generated input."""

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.catalog.domain.drafts import (
    CodeDraft,
    NewPriceVersion,
    OptionDraft,
    PolicyDraft,
    ProductDraft,
)
from rinnovo.catalog.domain.rules import (
    code_problems,
    new_price_version_problems,
    new_product_problems,
    price_version_on,
    product_problems,
)
from rinnovo.contracts.catalog import PriceVersion, ProductSnapshot
from rinnovo.runtime.bounds import MAX_CENTS

SEED = read_seed()
STANDARD = next(p for p in SEED.products if p.product_id == "fe-standard").published()
PRODUCT_IDS = [p.product_id for p in SEED.products]
PRICES = {"storage": 1000, "extra-user": 500, "nso": 1500}

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
not_cents = st.one_of(
    st.integers(max_value=-1),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    st.integers(min_value=0).map(float),
    st.integers(min_value=0).map(str),
    st.booleans(),
)


def fields(problems: list[tuple[str, str]]) -> set[str]:
    return {field for field, _ in problems}


def product_body(**changes: Any) -> dict[str, Any]:
    return {**STANDARD.model_dump(mode="json"), **changes}


def code_body(**changes: Any) -> dict[str, Any]:
    base = {
        "code": "WELCOME",
        "discount_kind": "percent",
        "discount_value": 1500,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "product_ids": ["fe-standard"],
        "applies_to": "first_purchase",
    }
    return {**base, **changes}


def test_the_seed_satisfies_every_rule() -> None:
    for product in SEED.products:
        assert new_product_problems(product) == []
    for code in SEED.convention_codes:
        assert code_problems(code, PRODUCT_IDS) == []


@given(cents=st.integers(min_value=0, max_value=MAX_CENTS))
def test_any_whole_non_negative_cents_up_to_the_bound_are_a_price(cents: int) -> None:
    NewPriceVersion.model_validate(
        {"effective_from": "2027-01-01", "base_yearly_cents": cents, "option_unit_yearly_cents": {}}
    )


@given(cents=st.integers(min_value=MAX_CENTS + 1) | st.sampled_from([2**63, 2**64, 10**30]))
def test_cents_above_the_bound_are_refused_before_storage(cents: int) -> None:
    # 2**64 once reached MongoDB, which keeps 8-byte integers: a 500.
    with pytest.raises(ValidationError) as refused:
        NewPriceVersion.model_validate(
            {
                "effective_from": "2027-01-01",
                "base_yearly_cents": 100,
                "option_unit_yearly_cents": {"storage": cents},
            }
        )
    assert [e["loc"] for e in refused.value.errors()] == [("option_unit_yearly_cents", "storage")]


@given(bad=not_cents, where=st.sampled_from(["base", "option"]))
def test_negative_fractional_or_textual_cents_are_refused_naming_the_field(
    bad: object, where: str
) -> None:
    body: dict[str, Any] = {
        "effective_from": "2027-01-01",
        "base_yearly_cents": 100,
        "option_unit_yearly_cents": {"storage": 100},
    }
    if where == "base":
        body["base_yearly_cents"] = bad
        expected: tuple[str, ...] = ("base_yearly_cents",)
    else:
        body["option_unit_yearly_cents"] = {"storage": bad}
        expected = ("option_unit_yearly_cents", "storage")
    with pytest.raises(ValidationError) as refused:
        NewPriceVersion.model_validate(body)
    assert {e["loc"] for e in refused.value.errors()} == {expected}


@given(name=st.text(alphabet=" \t\n", max_size=5))
def test_blank_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError) as refused:
        ProductDraft.model_validate(product_body(name=name))
    assert [e["loc"] for e in refused.value.errors()] == [("name",)]


@given(
    terms=st.lists(st.integers(min_value=-5, max_value=15), max_size=12),
    promotional=st.booleans(),
)
def test_terms_are_one_to_ten_years_and_promotional_ones_one_or_two(
    terms: list[int], promotional: bool
) -> None:
    product = STANDARD.model_copy(
        update={"allowed_terms_years": tuple(terms), "promotional": promotional}
    )
    wrong = (
        not terms
        or len(set(terms)) != len(terms)
        or any(not 1 <= t <= 10 for t in terms)
        or (promotional and not set(terms) <= {1, 2})
    )
    problems = product_problems(product)
    assert ("allowed_terms_years" in fields(problems)) == wrong
    assert fields(problems) <= {"allowed_terms_years"}


@given(starts=st.lists(days, min_size=1, max_size=6))
def test_price_versions_must_not_overlap(starts: list[date]) -> None:
    versions = tuple(
        PriceVersion(
            version=i + 1,
            effective_from=start,
            base_yearly_cents=100,
            option_unit_yearly_cents=PRICES,
        )
        for i, start in enumerate(starts)
    )
    product = STANDARD.model_copy(update={"price_versions": versions})
    overlapping = {
        f"price_versions.{i}.effective_from"
        for i in range(1, len(starts))
        if starts[i] <= starts[i - 1]
    }
    assert fields(product_problems(product)) == overlapping


@given(today=days, last_start=days, start=days)
def test_a_new_price_version_starts_after_today_and_after_the_last_one(
    today: date, last_start: date, start: date
) -> None:
    last = STANDARD.price_versions[-1].model_copy(update={"effective_from": last_start})
    product = STANDARD.model_copy(update={"price_versions": (last,)})
    problems = new_price_version_problems(product, start, PRICES, today)
    assert bool(problems) == (start <= today or start <= last_start)
    assert fields(problems) <= {"effective_from"}


# Announced: options not on sale (a name that is one on sale would be priced by it).
@given(
    priced=st.sets(st.sampled_from(sorted(PRICES))),
    announced=st.sets(st.text(min_size=1).filter(lambda name: name not in PRICES)),
)
def test_a_new_price_version_prices_every_option_on_sale(
    priced: set[str], announced: set[str]
) -> None:
    prices = {option: 100 for option in priced | announced}
    problems = new_price_version_problems(STANDARD, date(2027, 1, 1), prices, date(2026, 1, 1))
    missing = set(PRICES) - priced
    assert len(problems) == len(missing)
    assert fields(problems) <= {"option_unit_yearly_cents"}


@given(starts=st.lists(days, min_size=1, max_size=6, unique=True), day=days)
def test_the_price_on_a_day_is_the_latest_version_started_by_then(
    starts: list[date], day: date
) -> None:
    product = _with_versions(sorted(starts))
    found = price_version_on(product, day)
    started = [s for s in sorted(starts) if s <= day]
    assert (found.effective_from if found else None) == (started[-1] if started else None)


@given(
    starts=st.lists(days, min_size=1, max_size=5, unique=True),
    today=days,
    ahead=st.integers(min_value=1, max_value=400),
    quoted=days,
)
def test_a_price_change_never_changes_the_price_of_a_past_quote(
    starts: list[date], today: date, ahead: int, quoted: date
) -> None:
    assume(quoted <= today)
    product = _with_versions(sorted(starts))
    start = max(today, product.price_versions[-1].effective_from) + timedelta(days=ahead)
    assert new_price_version_problems(product, start, PRICES, today) == []
    changed = product.model_copy(
        update={
            "price_versions": (
                *product.price_versions,
                PriceVersion(
                    version=len(starts) + 1,
                    effective_from=start,
                    base_yearly_cents=9999,
                    option_unit_yearly_cents=PRICES,
                ),
            )
        }
    )
    assert price_version_on(changed, quoted) == price_version_on(product, quoted)


@given(valid_from=days, valid_to=days)
def test_a_code_ends_on_or_after_it_starts(valid_from: date, valid_to: date) -> None:
    code = CodeDraft.model_validate(
        code_body(valid_from=valid_from.isoformat(), valid_to=valid_to.isoformat())
    )
    problems = code_problems(code, PRODUCT_IDS)
    assert fields(problems) == ({"valid_to"} if valid_to < valid_from else set())


@given(
    products=st.lists(
        st.sampled_from([*PRODUCT_IDS, "fe-unknown", "another"]), min_size=1, unique=True
    )
)
def test_a_code_names_only_known_products(products: list[str]) -> None:
    code = CodeDraft.model_validate(code_body(product_ids=products))
    unknown = set(products) - set(PRODUCT_IDS)
    problems = code_problems(code, PRODUCT_IDS)
    assert len(problems) == len(unknown)
    assert fields(problems) <= {"product_ids"}


@given(kind=st.sampled_from(["percent", "fixed_cents"]), value=st.integers(0, 20_000))
def test_a_discount_is_a_real_one(kind: str, value: int) -> None:
    code = CodeDraft.model_validate(code_body(discount_kind=kind, discount_value=value))
    valid = 0 < value <= 10_000 if kind == "percent" else value > 0
    assert (code_problems(code, PRODUCT_IDS) == []) == valid


@given(terms=st.lists(st.integers(min_value=-3, max_value=13), max_size=5))
def test_code_terms_are_one_to_ten_years(terms: list[int]) -> None:
    if any(not 1 <= t <= 10 for t in terms):  # the schema says so, in the OpenAPI document
        with pytest.raises(ValidationError) as refused:
            CodeDraft.model_validate(code_body(terms_years=terms))
        assert {e["loc"][0] for e in refused.value.errors()} == {"terms_years"}
        return
    code = CodeDraft.model_validate(code_body(terms_years=terms))
    assert (code_problems(code, PRODUCT_IDS) != []) == (len(set(terms)) != len(terms))


def test_codes_are_kept_in_capitals() -> None:
    assert CodeDraft.model_validate(code_body(code=" welcome-26 ")).code == "WELCOME-26"
    code = CodeDraft.model_validate(code_body(code="sconto 10%"))
    assert fields(code_problems(code, PRODUCT_IDS)) == {"code"}


def test_input_with_unknown_fields_or_textual_terms_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        ProductDraft.model_validate(product_body(colour="red", allowed_terms_years=["1", True]))
    assert {e["loc"] for e in refused.value.errors()} == {
        ("colour",),
        ("allowed_terms_years", 0),
        ("allowed_terms_years", 1),
    }


def test_policy_rules_name_the_policy_field() -> None:
    policy = STANDARD.policy.model_copy(
        update={
            "reminder_days_before_expiry": (7, 30),
            "auto_renewal_retry_days": (1, 45),
            "window_closing_warning_days": 90,
        }
    )
    problems = product_problems(STANDARD.model_copy(update={"policy": policy}))
    assert fields(problems) == {
        "policy.reminder_days_before_expiry",
        "policy.auto_renewal_retry_days",
        "policy.window_closing_warning_days",
    }


def _with_versions(starts: list[date]) -> ProductSnapshot:
    versions = tuple(
        PriceVersion(
            version=i + 1,
            effective_from=start,
            base_yearly_cents=100 * (i + 1),
            option_unit_yearly_cents=PRICES,
        )
        for i, start in enumerate(starts)
    )
    return STANDARD.model_copy(update={"price_versions": versions})


@pytest.mark.parametrize(("field", "value"), [("unpaid_order_timeout_days", 0)])
def test_a_policy_draft_refuses_what_its_snapshot_refuses(field: str, value: int) -> None:
    # The fuzzer's boundary cases found a draft bounded more loosely than its snapshot: a 500.
    body = {**STANDARD.policy.model_dump(mode="json"), field: value}
    with pytest.raises(ValidationError) as refused:
        PolicyDraft.model_validate(body)
    assert [e["loc"] for e in refused.value.errors()] == [(field,)]


def test_an_option_draft_is_sold_in_steps_of_at_least_one() -> None:
    option = STANDARD.options[0].model_dump(mode="json")
    with pytest.raises(ValidationError) as refused:
        OptionDraft.model_validate({**option, "step": 0})
    assert [e["loc"] for e in refused.value.errors()] == [("step",)]


@given(
    total=st.one_of(st.none(), st.integers(1, 10_000)),
    each=st.one_of(st.none(), st.integers(1, 10_000)),
)
def test_a_code_limits_each_customer_to_no_more_than_all(
    total: int | None, each: int | None
) -> None:
    code = CodeDraft.model_validate(code_body(max_uses=total, max_uses_per_customer=each))
    problems = code_problems(code, PRODUCT_IDS)
    too_many = total is not None and each is not None and each > total
    assert fields(problems) == ({"max_uses_per_customer"} if too_many else set())


@pytest.mark.parametrize("bad", [0, -1, 10_001, "5", 2.0])
def test_a_use_limit_is_a_whole_number_from_1_to_10000(bad: object) -> None:
    with pytest.raises(ValidationError) as refused:
        CodeDraft.model_validate(code_body(max_uses=bad))
    assert refused.value.errors()[0]["loc"][0] == "max_uses"
