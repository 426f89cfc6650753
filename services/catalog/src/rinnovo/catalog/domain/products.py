"""Changes to a product, as pure functions from the current snapshot to the next one.

Each either returns the new snapshot or raises ``Rejected`` naming every field at fault.
Prices are never edited: a change of price is a new version appended to the history.
"""

from datetime import date

from rinnovo.catalog.domain.drafts import NewPriceVersion, PolicyDraft, ProductChanges, ProductDraft
from rinnovo.catalog.domain.errors import reject_if
from rinnovo.catalog.domain.rules import (
    FieldProblem,
    new_price_version_problems,
    new_product_problems,
    policy_problems,
    product_problems,
)
from rinnovo.contracts.catalog import PriceVersion, ProductSnapshot


def create_product(draft: ProductDraft) -> ProductSnapshot:
    product = draft.published()
    reject_if(new_product_problems(product))
    return product


def revise_product(
    current: ProductSnapshot, changes: ProductChanges, today: date
) -> ProductSnapshot:
    """Replace what an administrator may replace; the id and the price history stay."""
    product = ProductSnapshot.model_validate(
        {
            **changes.model_dump(),
            "product_id": current.product_id,
            "price_versions": current.model_dump()["price_versions"],
        }
    )
    reject_if(product_problems(product, priced_from=today))
    return product


def set_policy(current: ProductSnapshot, policy: PolicyDraft) -> ProductSnapshot:
    reject_if(policy_problems(policy))
    return current.model_copy(update={"policy": policy.published()})


def add_price_version(
    current: ProductSnapshot, new: NewPriceVersion, today: date
) -> ProductSnapshot:
    reject_if(
        new_price_version_problems(current, new.effective_from, new.option_unit_yearly_cents, today)
    )
    version = PriceVersion(
        version=current.price_versions[-1].version + 1,
        effective_from=new.effective_from,
        base_yearly_cents=new.base_yearly_cents,
        option_unit_yearly_cents=new.option_unit_yearly_cents,
    )
    product = current.model_copy(update={"price_versions": (*current.price_versions, version)})
    reject_if(product_problems(product, priced_from=today))
    return product


def merge_seed(stored: ProductSnapshot, seed: ProductSnapshot, today: date) -> ProductSnapshot:
    """A changed seed entry applied to a product already stored.

    The seed's fields win, but the stored price history stays as it is: versions the seed
    shares with it must be identical, and versions only the seed has are appended under the
    same rules as the admin API. Versions added through the API and not in the seed remain.
    """
    problems: list[FieldProblem] = []
    history = stored.price_versions
    for i, (declared, kept) in enumerate(zip(seed.price_versions, history, strict=False)):
        if declared != kept:
            problems.append(
                (
                    f"price_versions.{i}",
                    f"differs from stored version {kept.version}, which never changes",
                )
            )
    merged = seed.model_copy(update={"price_versions": history})
    for i, version in enumerate(seed.price_versions[len(history) :], start=len(history)):
        found = new_price_version_problems(
            merged, version.effective_from, version.option_unit_yearly_cents, today
        )
        problems += [(f"price_versions.{i}.{field}", message) for field, message in found]
        merged = merged.model_copy(update={"price_versions": (*merged.price_versions, version)})
    problems += product_problems(merged, priced_from=today)
    reject_if(problems)
    return merged
