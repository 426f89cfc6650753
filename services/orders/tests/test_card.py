"""The card rules on a table of dates and usages around every threshold."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders.domain.calendar import days_left
from rinnovo.orders.domain.card import card
from rinnovo.orders.domain.pricing import OrderKind, QuoteRequest, quote
from rinnovo.orders.domain.subscription import (
    BYTES_PER_GB,
    AutoRenewal,
    Components,
    Holder,
    Status,
    Subscription,
)

SEED = {p.product_id: p for p in read_seed().products}
POLICY_60 = SEED["fe-standard"].policy
POLICY_90 = SEED["fe-business"].policy
EXPIRY = date(2027, 3, 31)


def a_service(**changes: object) -> Subscription:
    service = Subscription(
        subscription_id="s1",
        customer_id="c1",
        holder=Holder(name="Studio Rossi", email="rossi@example.it"),
        username="12345678@example.it",
        product_id="fe-standard",
        status=Status.ACTIVE,
        expiry_date=EXPIRY,
        components=Components(storage_gb=10, extra_users=0, nso=False),
        used_bytes=0,
        auto_renewal=AutoRenewal(enabled=False, term_years=1),
    )
    return replace(service, **changes)  # type: ignore[arg-type]


def test_the_window_lengths_come_from_the_catalog() -> None:
    assert POLICY_60.reactivation_window_days == 60
    assert POLICY_90.reactivation_window_days == 90


@pytest.mark.parametrize(
    ("days_before", "red"), [(91, False), (90, True), (89, True), (1, True), (0, True)]
)
def test_expiry_is_red_from_90_days_before(days_before: int, red: bool) -> None:
    today = EXPIRY - timedelta(days=days_before)
    assert card(a_service(), POLICY_60, today).expiry_warning is red


@pytest.mark.parametrize(
    ("used_per_mille", "red"), [(799, False), (800, False), (801, True), (1000, True)]
)
def test_storage_is_red_above_80_percent(used_per_mille: int, red: bool) -> None:
    used = 10 * BYTES_PER_GB * used_per_mille // 1000  # 79.9 %, 80 %, 80.1 %, full
    shown = card(a_service(used_bytes=used), POLICY_60, EXPIRY - timedelta(days=200))
    assert shown.storage_warning is red
    assert shown.storage_used_percent == used_per_mille / 10


@pytest.mark.parametrize(("policy", "window"), [(POLICY_60, 60), (POLICY_90, 90)])
@pytest.mark.parametrize(
    ("day", "status", "renew", "upgrade", "reactivate"),
    [
        ("day before expiry", Status.ACTIVE, True, True, False),
        ("expiry day", Status.ACTIVE, False, False, True),
        ("day after expiry", Status.EXPIRED, False, False, True),
        ("last day of window", Status.EXPIRED, False, False, True),
        ("day after window", Status.EXPIRED, False, False, False),
        ("day after window", Status.DEACTIVATED, False, False, False),
    ],
)
def test_actions_around_expiry_and_the_window(
    policy: ProductPolicy,
    window: int,
    day: str,
    status: Status,
    renew: bool,
    upgrade: bool,
    reactivate: bool,
) -> None:
    today = {
        "day before expiry": EXPIRY - timedelta(days=1),
        "expiry day": EXPIRY,
        "day after expiry": EXPIRY + timedelta(days=1),
        "last day of window": EXPIRY + timedelta(days=window),
        "day after window": EXPIRY + timedelta(days=window + 1),
    }[day]
    actions = card(a_service(status=status), policy, today).actions
    assert (actions.renew, actions.upgrade, actions.reactivate) == (renew, upgrade, reactivate)
    assert actions.manage


def test_renew_is_hidden_while_automatic_renewal_is_on() -> None:
    service = a_service(auto_renewal=AutoRenewal(enabled=True, term_years=1, payment_method="pm"))
    actions = card(service, POLICY_60, EXPIRY - timedelta(days=10)).actions
    assert not actions.renew
    assert actions.upgrade


def test_a_service_not_yet_paid_offers_only_manage() -> None:
    service = a_service(status=Status.PENDING_ACTIVATION, expiry_date=None)
    shown = card(service, POLICY_60, EXPIRY)
    assert (shown.actions.renew, shown.actions.upgrade, shown.actions.reactivate) == (
        False,
        False,
        False,
    )
    assert not shown.expiry_warning


def test_the_card_and_the_upgrade_count_the_same_days_left() -> None:
    """The days the card shows are the days an upgrade charges: 182 both, not 183."""
    today = EXPIRY - timedelta(days=182)
    shown = card(a_service(components=Components(1, 0, False)), POLICY_60, today)
    request = QuoteRequest(
        kind=OrderKind.UPGRADE,
        wanted=Components(storage_gb=3, extra_users=0, nso=False),
        term_years=1,
        today=today,
        current=Components(storage_gb=1, extra_users=0, nso=False),
        expiry_date=EXPIRY,
    )
    [line] = quote(SEED["fe-standard"], request).lines
    assert shown.days_to_expiry == days_left(EXPIRY, today) == line.days == 182
