"""What makes a product or a convention code sellable. Pure functions, no I/O.

Each rule returns the problems it finds as ``(field, message)`` pairs, so one submission
reports every problem at once and names each field.
"""

from collections.abc import Iterable

from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot

MIN_TERM_YEARS = 1
MAX_TERM_YEARS = 10
PROMOTIONAL_TERMS = {1, 2}

FieldProblem = tuple[str, str]


def product_problems(product: ProductSnapshot) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    terms = product.allowed_terms_years
    if not terms:
        problems.append(("allowed_terms_years", "at least one term is required"))
    if len(set(terms)) != len(terms):
        problems.append(("allowed_terms_years", "terms must not repeat"))
    for term in terms:
        if not MIN_TERM_YEARS <= term <= MAX_TERM_YEARS:
            problems.append(("allowed_terms_years", f"term {term} is outside 1-10 years"))
    if product.promotional and set(terms) - PROMOTIONAL_TERMS:
        problems.append(("allowed_terms_years", "a promotional product allows only 1 or 2 years"))

    option_ids = [o.option_id for o in product.options]
    if len(set(option_ids)) != len(option_ids):
        problems.append(("options", "option ids must be unique"))
    for i, option in enumerate(product.options):
        if option.included > option.max_quantity:
            problems.append((f"options.{i}.included", "more included than the maximum"))

    problems += _price_version_problems(product, set(option_ids))
    policy = product.policy
    if sorted(set(policy.reminder_days_before_expiry), reverse=True) != list(
        policy.reminder_days_before_expiry
    ):
        problems.append(("policy.reminder_days_before_expiry", "must be distinct, descending"))
    if any(d > policy.expiry_warning_days for d in policy.reminder_days_before_expiry):
        problems.append(
            ("policy.reminder_days_before_expiry", "reminders start within the warning window")
        )
    if sorted(set(policy.auto_renewal_retry_days)) != list(policy.auto_renewal_retry_days):
        problems.append(("policy.auto_renewal_retry_days", "must be distinct, ascending"))
    if policy.window_closing_warning_days > policy.reactivation_window_days:
        problems.append(
            ("policy.window_closing_warning_days", "longer than the reactivation window")
        )
    return problems


def _price_version_problems(product: ProductSnapshot, option_ids: set[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    versions = product.price_versions
    if not versions:
        problems.append(("price_versions", "at least one price version is required"))
    for i, version in enumerate(versions):
        if version.version != i + 1:
            problems.append((f"price_versions.{i}.version", f"expected version {i + 1}"))
        if i and version.effective_from <= versions[i - 1].effective_from:
            problems.append(
                (f"price_versions.{i}.effective_from", "overlaps the previous price version")
            )
        priced = set(version.option_unit_yearly_cents)
        for missing in sorted(option_ids - priced):
            problems.append(
                (f"price_versions.{i}.option_unit_yearly_cents", f"no price for {missing}")
            )
        for unknown in sorted(priced - option_ids):
            problems.append(
                (f"price_versions.{i}.option_unit_yearly_cents", f"unknown option {unknown}")
            )
    return problems


def code_problems(code: ConventionCodeSnapshot, product_ids: Iterable[str]) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if code.valid_to < code.valid_from:
        problems.append(("valid_to", "is before valid_from"))
    if code.discount_kind == "percent" and not 0 < code.discount_value <= 10_000:
        problems.append(("discount_value", "a percentage is 1 to 10000 basis points"))
    if code.discount_kind == "fixed_cents" and code.discount_value == 0:
        problems.append(("discount_value", "a fixed discount must be positive"))
    known = set(product_ids)
    if not code.product_ids:
        problems.append(("product_ids", "a code applies to at least one product"))
    for unknown in sorted(set(code.product_ids) - known):
        problems.append(("product_ids", f"unknown product {unknown}"))
    for term in code.terms_years:
        if not MIN_TERM_YEARS <= term <= MAX_TERM_YEARS:
            problems.append(("terms_years", f"term {term} is outside 1-10 years"))
    return problems
