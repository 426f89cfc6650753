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


def test_automatic_renewal_replaces_reminders_with_a_notice_and_the_charge() -> None:
    service = a_service(date(2027, 6, 30), auto_renewal=AutoRenewal(True, 1, "card"))
    found = milestones(service, POLICY_60)
    assert MilestoneKind.REMINDER not in [m.kind for m in found]
    # The charge 30 days before the expiry, the notice the policy's 7 days before the charge.
    assert [(m.kind, m.day) for m in found[:2]] == [
        (MilestoneKind.AUTOMATIC_RENEWAL_NOTICE, date(2027, 5, 24)),
        (MilestoneKind.AUTOMATIC_RENEWAL, date(2027, 5, 31)),
    ]
    fortnight = POLICY_60.model_copy(update={"auto_renewal_notice_days": 14})
    assert milestones(service, fortnight)[0].day == date(2027, 5, 17)


AUTO = a_service(date(2027, 6, 30), auto_renewal=AutoRenewal(True, 1, "card"))


@pytest.mark.parametrize(
    ("service", "now", "told"),
    [
        # On its day: the customer has a week to switch automatic renewal off.
        (AUTO, datetime(2027, 5, 24, 8, tzinfo=UTC), True),
        # Automatic renewal switched on two days before the charge: the notice goes at once.
        (AUTO, datetime(2027, 5, 29, 8, tzinfo=UTC), True),
        # Down past the charge: it is made; a notice of it would come too late to act on.
        (AUTO, datetime(2027, 5, 31, 8, tzinfo=UTC), False),
        # A term whose charge was made before notices existed: nothing ahead to tell.
        (
            replace(AUTO, milestones_done=("auto:2027-06-30",)),
            datetime(2027, 6, 1, tzinfo=UTC),
            False,
        ),
    ],
    ids=["on its day", "switched on late", "charge due too", "charge made already"],
)
def test_the_notice_is_told_only_while_the_charge_is_ahead(
    service: Subscription, now: datetime, told: bool
) -> None:
    step = next_step(service, POLICY_60, now)
    assert step is not None
    assert (step.milestone.kind, step.announce) == (MilestoneKind.AUTOMATIC_RENEWAL_NOTICE, told)


def test_a_reminder_is_told_while_the_customer_can_still_renew() -> None:
    """Imported the day before its expiry: every reminder is due at once; the latest, which
    says what is true now, is told; the expiry (at the end of tomorrow) is not due yet."""
    service = a_service(date(2027, 6, 30))
    now = datetime(2027, 6, 29, 10, tzinfo=UTC)
    told = []
    while (step := next_step(service, POLICY_60, now)) is not None:
        told.append((step.milestone.days_before, step.announce))
        service = step.service
    assert told == [(90, False), (60, False), (30, False), (15, False), (7, False), (1, True)]
    # The day after, the expiry is due too: "expires tomorrow" would be out of date.
    late = next_step(
        replace(service, milestones_done=()), POLICY_60, datetime(2027, 7, 1, tzinfo=UTC)
    )
    assert late is not None and not late.announce


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
