"""Changes to products and codes: what they keep, what they refuse."""

from datetime import date

import pytest

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.catalog.domain import codes, products
from rinnovo.catalog.domain.audit import changed_fields
from rinnovo.catalog.domain.drafts import (
    CodeChanges,
    NewPriceVersion,
    PolicyDraft,
    ProductChanges,
    ProductDraft,
)
from rinnovo.catalog.domain.errors import NoLongerChanges, Rejected
from rinnovo.contracts.catalog import ProductSnapshot

SEED = read_seed()
STANDARD = next(p for p in SEED.products if p.product_id == "fe-standard").published()
CODE = SEED.convention_codes[0].published()
PRODUCT_IDS = [p.product_id for p in SEED.products]
TODAY = date(2026, 5, 10)
PRICES = {"storage": 1100, "extra-user": 500, "nso": 1500}


def changes_of(product: ProductSnapshot, **edits: object) -> ProductChanges:
    body = product.model_dump(mode="json", exclude={"product_id", "price_versions"})
    return ProductChanges.model_validate({**body, **edits})


def next_prices(effective_from: date, **edits: object) -> NewPriceVersion:
    body = {"effective_from": effective_from, "base_yearly_cents": 2700}
    return NewPriceVersion.model_validate({**body, "option_unit_yearly_cents": PRICES, **edits})


def refused_fields(excinfo: pytest.ExceptionInfo[Rejected]) -> set[str]:
    return {field for field, _ in excinfo.value.problems}


def test_a_price_change_is_the_next_version_and_keeps_the_history() -> None:
    changed = products.add_price_version(STANDARD, next_prices(date(2026, 7, 1)), TODAY)
    assert changed.price_versions[:-1] == STANDARD.price_versions
    added = changed.price_versions[-1]
    assert (added.version, added.effective_from, added.base_yearly_cents) == (
        2,
        date(2026, 7, 1),
        2700,
    )


@pytest.mark.parametrize(
    ("effective_from", "prices", "field"),
    [
        (TODAY, PRICES, "effective_from"),
        (date(2024, 12, 31), PRICES, "effective_from"),
        (date(2026, 7, 1), {"storage": 1}, "option_unit_yearly_cents"),
    ],
)
def test_a_price_version_that_would_rewrite_the_past_is_refused(
    effective_from: date, prices: dict[str, int], field: str
) -> None:
    with pytest.raises(Rejected) as refused:
        products.add_price_version(
            STANDARD, next_prices(effective_from, option_unit_yearly_cents=prices), TODAY
        )
    assert refused_fields(refused) == {field}


def test_revising_a_product_keeps_its_id_and_prices() -> None:
    revised = products.revise_product(
        STANDARD, changes_of(STANDARD, name="FE Standard", active=False), TODAY
    )
    assert (revised.name, revised.active) == ("FE Standard", False)
    assert revised.product_id == STANDARD.product_id
    assert revised.price_versions == STANDARD.price_versions


def test_an_option_goes_on_sale_only_once_the_prices_in_effect_include_it() -> None:
    archive = {
        "option_id": "archive",
        "kind": "storage",
        "name": "Archivio",
        "unit": "GB",
        "step": 10,
        "included": 0,
        "max_quantity": 100,
    }
    body = STANDARD.model_dump(mode="json")
    options = [o for o in body["options"] if o["kind"] != "storage"] + [archive]
    with pytest.raises(Rejected) as refused:
        products.revise_product(STANDARD, changes_of(STANDARD, options=options), TODAY)
    assert refused_fields(refused) == {"options.2"}

    # Announce its price from 1 July, then put it on sale from that day.
    announced = {"archive": 50, "extra-user": 500, "nso": 1500}
    priced = products.add_price_version(
        STANDARD,
        next_prices(date(2026, 7, 1), option_unit_yearly_cents={**announced, "storage": 1}),
        TODAY,
    )
    with pytest.raises(Rejected):
        products.revise_product(priced, changes_of(priced, options=options), TODAY)
    on_sale = products.revise_product(priced, changes_of(priced, options=options), date(2026, 7, 1))
    assert [o.option_id for o in on_sale.options] == ["extra-user", "nso", "archive"]


def test_a_promotional_product_with_long_terms_is_refused() -> None:
    with pytest.raises(Rejected) as refused:
        products.revise_product(
            STANDARD, changes_of(STANDARD, promotional=True, allowed_terms_years=[1, 3]), TODAY
        )
    assert refused_fields(refused) == {"allowed_terms_years"}


def test_a_reactivation_window_of_90_days_is_a_policy_setting() -> None:
    policy = PolicyDraft.model_validate(
        {**STANDARD.policy.model_dump(), "reactivation_window_days": 90}
    )
    assert products.set_policy(STANDARD, policy).policy.reactivation_window_days == 90
    bad = PolicyDraft.model_validate(
        {**STANDARD.policy.model_dump(), "auto_renewal_retry_days": [3, 1]}
    )
    with pytest.raises(Rejected) as refused:
        products.set_policy(STANDARD, bad)
    assert refused_fields(refused) == {"auto_renewal_retry_days"}


def test_a_changed_seed_extends_the_stored_history_and_never_rewrites_it() -> None:
    stored = products.add_price_version(STANDARD, next_prices(date(2026, 7, 1)), TODAY)
    renamed = STANDARD.model_copy(update={"name": "Fatturazione Elettronica Standard"})

    merged = products.merge_seed(stored, renamed, TODAY)
    assert merged.name == "Fatturazione Elettronica Standard"
    assert merged.price_versions == stored.price_versions  # the admin's version 2 stays

    rewritten = STANDARD.price_versions[0].model_copy(update={"base_yearly_cents": 1})
    with pytest.raises(Rejected) as refused:
        products.merge_seed(
            stored, renamed.model_copy(update={"price_versions": (rewritten,)}), TODAY
        )
    assert refused_fields(refused) == {"price_versions.0"}


def test_a_seed_may_add_a_future_price_version_only() -> None:
    def seed_with(effective_from: date) -> ProductSnapshot:
        draft = ProductDraft.model_validate(
            {
                **STANDARD.model_dump(mode="json"),
                "price_versions": [
                    *STANDARD.model_dump(mode="json")["price_versions"],
                    {
                        "version": 2,
                        "effective_from": effective_from.isoformat(),
                        "base_yearly_cents": 2700,
                        "option_unit_yearly_cents": PRICES,
                    },
                ],
            }
        )
        return draft.published()

    assert (
        len(products.merge_seed(STANDARD, seed_with(date(2026, 9, 1)), TODAY).price_versions) == 2
    )
    with pytest.raises(Rejected) as refused:
        products.merge_seed(STANDARD, seed_with(date(2026, 1, 1)), TODAY)
    assert refused_fields(refused) == {"price_versions.1.effective_from"}


def test_a_code_names_known_products_and_a_revoked_one_never_changes() -> None:
    body = CODE.model_dump(mode="json", exclude={"code", "revoked"})
    with pytest.raises(Rejected) as refused:
        codes.revise_code(
            CODE, CodeChanges.model_validate({**body, "product_ids": ["nope"]}), PRODUCT_IDS
        )
    assert refused_fields(refused) == {"product_ids"}

    revoked = codes.revoke_code(CODE)
    assert revoked.revoked
    with pytest.raises(NoLongerChanges):
        codes.revise_code(revoked, CodeChanges.model_validate(body), PRODUCT_IDS)
    assert codes.merge_seed(revoked, CODE, PRODUCT_IDS).revoked


def test_the_audit_names_the_fields_that_changed() -> None:
    revoked = codes.revoke_code(CODE)
    assert changed_fields(CODE, revoked) == ("revoked",)
    assert "code" in changed_fields(None, CODE)
    assert changed_fields(CODE, CODE) == ()
