"""What makes a product or a convention code sellable. Pure functions, no I/O.

Each rule returns the problems it finds as ``(field, message)`` pairs, so one submission
reports every problem at once and names each field as a dotted path of the request body.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from rinnovo.contracts.catalog import (
    ConventionCodeSnapshot,
    DiscountKind,
    OptionKind,
    PriceVersion,
    ProductPolicy,
    ProductSnapshot,
)

MIN_TERM_YEARS = 1
MAX_TERM_YEARS = 10
PROMOTIONAL_TERMS = frozenset({1, 2})
WHOLE_PERCENT = 10_000
"""100 % in basis points."""

# Ids travel in URLs and Kafka keys; codes are typed by customers.
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,63}")

FieldProblem = tuple[str, str]


def price_version_on(product: ProductSnapshot, day: date) -> PriceVersion | None:
    """The version in effect on a day: the latest that started on or before it.

    Versions are only ever appended, starting after the day they are added, so the answer
    for a day that has begun never changes: a quote names its version and stays explained.
    """
    effective = [v for v in product.price_versions if v.effective_from <= day]
    return max(effective, key=lambda v: v.effective_from, default=None)


def term_problems(field: str, terms: Sequence[int]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if len(set(terms)) != len(terms):
        problems.append((field, "terms must not repeat"))
    for term in terms:
        if not MIN_TERM_YEARS <= term <= MAX_TERM_YEARS:
            problems.append(
                (field, f"term {term} is outside {MIN_TERM_YEARS}-{MAX_TERM_YEARS} years")
            )
    return problems


def product_problems(
    product: ProductSnapshot, *, priced_from: date | None = None
) -> list[FieldProblem]:
    """Every rule a product satisfies at all times.

    Each option on sale has a price in every version in effect from ``priced_from`` on (in
    every version when it is ``None``): older versions may lack an option added since.
    """
    problems: list[FieldProblem] = []
    if not ID_PATTERN.fullmatch(product.product_id):
        problems.append(("product_id", "use lower-case letters, digits and - (at most 64)"))
    terms = product.allowed_terms_years
    if not terms:
        problems.append(("allowed_terms_years", "at least one term is required"))
    problems += term_problems("allowed_terms_years", terms)
    if product.promotional and set(terms) - PROMOTIONAL_TERMS:
        problems.append(("allowed_terms_years", "a promotional product allows only 1 or 2 years"))
    problems += _option_problems(product)
    problems += _price_history_problems(product.price_versions)
    problems += _unpriced_option_problems(product, priced_from)
    problems += [(f"policy.{f}", m) for f, m in policy_problems(product.policy)]
    return problems


def new_product_problems(product: ProductSnapshot) -> list[FieldProblem]:
    """A product as first declared: every version prices exactly the options it sells."""
    problems = product_problems(product)
    option_ids = {o.option_id for o in product.options}
    for i, version in enumerate(product.price_versions):
        for unknown in sorted(set(version.option_unit_yearly_cents) - option_ids):
            problems.append(
                (f"price_versions.{i}.option_unit_yearly_cents", f"unknown option {unknown}")
            )
    return problems


def _option_problems(product: ProductSnapshot) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    option_ids = [o.option_id for o in product.options]
    if len(set(option_ids)) != len(option_ids):
        problems.append(("options", "option ids must be unique"))
    kinds = [o.kind for o in product.options]
    if len(set(kinds)) != len(kinds):
        problems.append(("options", "at most one option of each kind"))
    if OptionKind.STORAGE not in kinds:
        problems.append(("options", "a product sells storage"))
    for i, option in enumerate(product.options):
        if not ID_PATTERN.fullmatch(option.option_id):
            problems.append(
                (f"options.{i}.option_id", "use lower-case letters, digits and - (at most 64)")
            )
        if option.included > option.max_quantity:
            problems.append((f"options.{i}.included", "more included than the maximum"))
        if option.kind is OptionKind.NSO and option.max_quantity > 1:
            problems.append((f"options.{i}.max_quantity", "a service holds one NSO module"))
    return problems


def _price_history_problems(versions: Sequence[PriceVersion]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not versions:
        problems.append(("price_versions", "at least one price version is required"))
    for i, version in enumerate(versions):
        if version.version != i + 1:
            problems.append(
                (
                    f"price_versions.{i}.version",
                    f"expected {i + 1}: numbered 1, 2, ... oldest first",
                )
            )
        if i and version.effective_from <= versions[i - 1].effective_from:
            previous = versions[i - 1]
            problems.append(
                (
                    f"price_versions.{i}.effective_from",
                    f"overlaps version {previous.version}, in effect from "
                    f"{previous.effective_from}; each version starts after the one before",
                )
            )
    return problems


def _unpriced_option_problems(
    product: ProductSnapshot, priced_from: date | None
) -> list[FieldProblem]:
    versions = list(product.price_versions)
    if priced_from is not None:
        current = price_version_on(product, priced_from)
        versions = [v for v in versions if v == current or v.effective_from > priced_from]
    problems: list[FieldProblem] = []
    for i, option in enumerate(product.options):
        for version in versions:
            if option.option_id not in version.option_unit_yearly_cents:
                problems.append(
                    (
                        f"options.{i}",
                        f"{option.option_id} has no price in version {version.version}",
                    )
                )
    return problems


def policy_problems(policy: ProductPolicy) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    reminders = policy.reminder_days_before_expiry
    if sorted(set(reminders), reverse=True) != list(reminders):
        problems.append(("reminder_days_before_expiry", "must be distinct, in descending order"))
    if any(not 0 <= d <= policy.expiry_warning_days for d in reminders):
        problems.append(
            ("reminder_days_before_expiry", "reminders fall within the expiry warning window")
        )
    retries = policy.auto_renewal_retry_days
    if sorted(set(retries)) != list(retries):
        problems.append(("auto_renewal_retry_days", "must be distinct, in ascending order"))
    if any(not 1 <= d < policy.auto_renewal_lead_days for d in retries):
        # A retry on or after the expiry day would be too late: the service has expired.
        problems.append(
            ("auto_renewal_retry_days", "retries fall between the first charge and the expiry")
        )
    if policy.window_closing_warning_days > policy.reactivation_window_days:
        problems.append(("window_closing_warning_days", "longer than the reactivation window"))
    return problems


def new_price_version_problems(
    product: ProductSnapshot,
    effective_from: date,
    option_prices: Mapping[str, int],
    today: date,
) -> list[FieldProblem]:
    """A version appended to a product's price history.

    It starts after today, because quotes already made today used the version in effect,
    and after the last version, so versions never overlap. It prices every option on sale
    and may price options not on sale yet, which can go on sale once it is in effect.
    """
    problems: list[FieldProblem] = []
    if effective_from <= today:
        problems.append(
            ("effective_from", f"must be after today ({today}): today's quotes used today's prices")
        )
    last = product.price_versions[-1]
    if effective_from <= last.effective_from:
        problems.append(
            (
                "effective_from",
                f"overlaps version {last.version}, in effect from {last.effective_from}; "
                "a new version starts after it",
            )
        )
    for option in product.options:
        if option.option_id not in option_prices:
            problems.append(("option_unit_yearly_cents", f"no price for {option.option_id}"))
    return problems


def code_problems(code: ConventionCodeSnapshot, product_ids: Iterable[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not CODE_PATTERN.fullmatch(code.code):
        problems.append(("code", "use letters, digits, - and _ (at most 64)"))
    if code.valid_to < code.valid_from:
        problems.append(("valid_to", f"is before valid_from ({code.valid_from})"))
    if code.discount_kind is DiscountKind.PERCENT and not 0 < code.discount_value <= WHOLE_PERCENT:
        problems.append(("discount_value", "a percentage is 1 to 10000 basis points"))
    if code.discount_kind is DiscountKind.FIXED_CENTS and code.discount_value == 0:
        problems.append(("discount_value", "a fixed discount is at least one cent"))
    if not code.product_ids:
        problems.append(("product_ids", "a code applies to at least one product"))
    if len(set(code.product_ids)) != len(code.product_ids):
        problems.append(("product_ids", "products must not repeat"))
    for unknown in sorted(set(code.product_ids) - set(product_ids)):
        problems.append(("product_ids", f"unknown product {unknown}"))
    problems += term_problems("terms_years", code.terms_years)
    total, each = code.max_uses, code.max_uses_per_customer
    if total is not None and each is not None and each > total:
        problems.append(("max_uses_per_customer", f"is more than max_uses ({total})"))
    return problems
