"""Milestones over time, from the catalog policy, on Rome calendar days."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.orders.domain.lifecycle import next_step
from rinnovo.orders.domain.schedule import MilestoneKind, milestones, next_due, pending
from rinnovo.orders.domain.subscription import (
    AutoRenewal,
    Components,
    Holder,
    Status,
    Subscription,
)

SEED = {p.product_id: p for p in read_seed().products}
POLICY_60 = SEED["fe-standard"].policy
POLICY_90 = SEED["fe-business"].policy


def a_service(expiry: date, **changes: object) -> Subscription:
    service = Subscription(
        subscription_id="s1",
        customer_id="c1",
        holder=Holder("Studio Rossi", "rossi@example.it"),
        username="s1@example.it",
        product_id="fe-standard",
        status=Status.ACTIVE,
        expiry_date=expiry,
        components=Components(1, 0, False),
        used_bytes=0,
        auto_renewal=AutoRenewal(enabled=False, term_years=1),
    )
    return replace(service, **changes)  # type: ignore[arg-type]


def test_a_term_has_reminders_expiry_warning_and_deactivation() -> None:
    expiry = date(2027, 6, 30)
    found = milestones(a_service(expiry), POLICY_60)
    assert [(m.kind.value, m.day) for m in found] == [
        ("reminder", date(2027, 4, 1)),
        ("reminder", date(2027, 5, 1)),
        ("reminder", date(2027, 5, 31)),
        ("reminder", date(2027, 6, 15)),
        ("reminder", date(2027, 6, 23)),
        ("reminder", date(2027, 6, 29)),
        ("expiry", date(2027, 6, 30)),
        ("window_closing", date(2027, 8, 22)),
        ("deactivation", date(2027, 8, 29)),
    ]
    # Reminders when their Rome day starts; expiry and deactivation when their day ends.
    assert found[0].due_at == datetime(2027, 3, 31, 22, tzinfo=UTC)
    assert found[6].due_at == datetime(2027, 6, 30, 22, tzinfo=UTC)
    assert found[-1].due_at == datetime(2027, 8, 29, 22, tzinfo=UTC)


def test_the_window_is_the_products() -> None:
    expiry = date(2027, 6, 30)
    deactivation = milestones(a_service(expiry), POLICY_90)[-1]
    assert deactivation.kind is MilestoneKind.DEACTIVATION
    assert deactivation.day == expiry + timedelta(days=90)


@pytest.mark.parametrize(
    ("expiry", "ends_at"),
    [
        (date(2027, 3, 27), datetime(2027, 3, 27, 23, tzinfo=UTC)),  # before clocks go forward
        (date(2027, 3, 28), datetime(2027, 3, 28, 22, tzinfo=UTC)),  # the night they do
        (date(2027, 10, 30), datetime(2027, 10, 30, 22, tzinfo=UTC)),
        (date(2027, 10, 31), datetime(2027, 10, 31, 23, tzinfo=UTC)),  # the night they go back
    ],
)
def test_expiry_follows_rome_midnight_across_clock_changes(expiry: date, ends_at: datetime) -> None:
    found = {m.kind: m for m in milestones(a_service(expiry), POLICY_60)}
    assert found[MilestoneKind.EXPIRY].due_at == ends_at
    service = a_service(expiry)
    before = next_step(
        replace(service, milestones_done=_reminders(service)),
        POLICY_60,
        ends_at - timedelta(seconds=1),
    )
    assert before is None
    at = next_step(replace(service, milestones_done=_reminders(service)), POLICY_60, ends_at)
    assert at is not None
    assert at.service.status is Status.EXPIRED


def _reminders(service: Subscription) -> tuple[str, ...]:
    return tuple(m.key for m in milestones(service, POLICY_60) if m.kind is MilestoneKind.REMINDER)


def test_automatic_renewal_replaces_reminders_with_the_charge() -> None:
    service = a_service(date(2027, 6, 30), auto_renewal=AutoRenewal(True, 1, "card"))
    kinds = [m.kind for m in milestones(service, POLICY_60)]
    assert MilestoneKind.REMINDER not in kinds
    charge = milestones(service, POLICY_60)[0]
    assert (charge.kind, charge.day) == (MilestoneKind.AUTOMATIC_RENEWAL, date(2027, 5, 31))


def test_each_milestone_is_taken_once_and_late_reminders_are_not_sent() -> None:
    service = a_service(date(2027, 6, 30))
    # Down for a long time: reminders of 90, 60 and 30 days are all due at once.
    now = datetime(2027, 6, 1, 12, tzinfo=UTC)
    announced = []
    while (step := next_step(service, POLICY_60, now)) is not None:
        announced.append((step.milestone.days_before, step.announce))
        service = step.service
    assert announced == [(90, False), (60, False), (30, True)]
    assert next_step(service, POLICY_60, now) is None
    assert next_due(service, POLICY_60) == datetime(2027, 6, 14, 22, tzinfo=UTC)


def test_a_deactivated_or_unpaid_service_has_no_milestones() -> None:
    assert pending(a_service(date(2027, 6, 30), status=Status.DEACTIVATED), POLICY_60) == []
    unpaid = a_service(date(2027, 6, 30), status=Status.PENDING_ACTIVATION, expiry_date=None)
    assert next_due(unpaid, POLICY_60) is None


def test_an_expired_service_keeps_its_window_milestones() -> None:
    service = a_service(date(2027, 6, 30), status=Status.EXPIRED)
    assert [m.kind for m in pending(service, POLICY_60)] == [
        MilestoneKind.WINDOW_CLOSING,
        MilestoneKind.DEACTIVATION,
    ]
    step = next_step(service, POLICY_60, datetime(2027, 9, 1, tzinfo=UTC))
    assert step is not None
    assert step.milestone.kind is MilestoneKind.WINDOW_CLOSING
    assert not step.announce  # overtaken by the deactivation, due too
    last = next_step(step.service, POLICY_60, datetime(2027, 9, 1, tzinfo=UTC))
    assert last is not None
    assert last.service.status is Status.DEACTIVATED
