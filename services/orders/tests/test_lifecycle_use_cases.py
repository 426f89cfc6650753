"""A service's life over time on the in-memory stores (as ``test_lifecycle`` does on the real
servers): the clock moves by hand, the scheduler's sweeps take what is due."""

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from rinnovo.contracts.panel import UsageReported, UsageReportedPayload
from rinnovo.orders.domain.orders import OrderStatus
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.subscription import AutoRenewal, Status
from rinnovo.orders.service_layer import automatic_renewal, milestones, usage, views
from rinnovo.runtime.clock import FixedClock, end_of_rome_day, rome_date
from rinnovo.runtime.errors import Conflict, Invalid
from rinnovo.runtime.events import new_event

Orders = Any  # the conftest's harness
GB = 1_000_000_000


def start_of(day: date) -> datetime:
    return end_of_rome_day(day - timedelta(days=1))


@pytest.mark.parametrize(("product", "window"), [("fe-standard", 60), ("fe-business", 90)])
async def test_a_whole_life_one_event_per_milestone(
    orders: Orders, product: str, window: int
) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=100)
    await orders.import_service("ann", product_id=product, expiry_date=expiry)
    for days in [90, 60, 30, 15, 7, 1]:
        assert await orders.travel_to(start_of(expiry - timedelta(days=days))) == 1
    await orders.travel_to(end_of_rome_day(expiry))
    assert (await views.service_card(orders.ctx, "ann", "svc-ann")).status is Status.EXPIRED
    deadline = expiry + timedelta(days=window)
    await orders.travel_to(start_of(deadline - timedelta(days=7)))
    await orders.travel_to(end_of_rome_day(deadline))
    await orders.travel_to(end_of_rome_day(deadline + timedelta(days=30)))  # nothing more
    assert orders.types() == [
        "orders.service.activated",
        *["orders.service.expiring"] * 6,
        "orders.service.expired",
        "orders.service.reactivation_window_closing",
        "orders.service.deactivated",
    ]
    versions = [e.aggregate_version for e in orders.services.events]
    assert versions == sorted(set(versions))  # each event its own version
    assert (await orders.service("svc-ann")).next_due_at is None


async def test_after_a_downtime_only_the_latest_milestone_is_told(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=100)
    await orders.import_service("ann", expiry_date=expiry)
    assert await orders.travel_to(end_of_rome_day(expiry)) == 1  # one write for them all
    assert orders.types() == ["orders.service.activated", "orders.service.expired"]


async def test_two_scheduler_replicas_announce_each_milestone_once(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=100)
    for n in range(5):
        await orders.import_service(f"c{n}", expiry_date=expiry)
    orders.clock.advance(start_of(expiry - timedelta(days=90)) - orders.clock.now())
    now, lease = orders.clock.now(), timedelta(minutes=1)
    ids = await milestones.due_services(orders.ctx, now, 10)
    assert len(ids) == 5
    # Both replicas found the same due services and take them at once: each claim wins once.
    taken = await asyncio.gather(
        milestones.take_services(orders.ctx, ids[:3], now, lease),
        milestones.take_services(orders.ctx, ids, now, lease),
    )
    assert taken == [3, 2]
    assert orders.types().count("orders.service.expiring") == 5
    assert await orders.scheduler().sweep() == 0


async def test_a_sweep_takes_its_due_services_together(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=100)
    for n in range(5):
        await orders.import_service(f"c{n}", expiry_date=expiry)
    orders.clock.advance(start_of(expiry - timedelta(days=90)) - orders.clock.now())
    loads, writes = orders.services.loads, orders.services.writes
    assert await orders.scheduler().sweep() == 5
    assert orders.types().count("orders.service.expiring") == 5
    # One range query, one claim of the five, one bulk write of the five.
    assert (orders.services.loads - loads, orders.services.writes - writes) == (1, 2)


async def test_a_payment_in_the_same_second_as_expiry_still_renews(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=10)
    await orders.import_service("ann", expiry_date=expiry)
    placed = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    orders.clock.advance(end_of_rome_day(expiry) - orders.clock.now())
    await orders.pay(placed)
    await orders.travel_to(orders.clock.now())
    service = await orders.service("svc-ann")
    assert service.status is Status.ACTIVE
    assert service.expiry_date == expiry.replace(year=expiry.year + 1)
    assert "orders.service.expired" not in orders.types()


async def test_a_reactivation_paid_on_the_last_day_of_the_window(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=1)
    await orders.import_service("ann", expiry_date=expiry)
    await orders.travel_to(end_of_rome_day(expiry))
    deadline = expiry + timedelta(days=60)
    await orders.travel_to(start_of(deadline))
    placed = await orders.order("ann", OrderKind.REACTIVATION, service_id="svc-ann")
    await orders.pay(placed)
    service = await orders.service("svc-ann")
    assert service.status is Status.ACTIVE
    assert service.expiry_date == expiry.replace(year=expiry.year + 1)  # no free days
    assert orders.types()[-1] == "orders.service.reactivated"


async def test_an_unpaid_order_is_cancelled_after_the_timeout_a_paid_one_never(
    orders: Orders,
) -> None:
    await orders.import_service("ann")
    await orders.import_service("bob")
    unpaid = await orders.order("ann", OrderKind.RENEWAL, service_id="svc-ann")
    paid = await orders.order("bob", OrderKind.RENEWAL, service_id="svc-bob")
    await orders.pay(paid)
    await orders.travel_to(end_of_rome_day(unpaid.payment_due) - timedelta(seconds=2))
    assert (await orders.order_now(unpaid.order_id)).status is OrderStatus.AWAITING_PAYMENT
    await orders.travel_to(end_of_rome_day(unpaid.payment_due))
    cancelled = await orders.order_now(unpaid.order_id)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.cancel_reason == "not_paid"
    assert (await orders.order_now(paid.order_id)).status is OrderStatus.PAID
    [event] = orders.events("orders.order.cancelled")
    assert event.aggregate_id == unpaid.order_id


async def test_storage_crossing_the_threshold_up_down_up_is_two_events(orders: Orders) -> None:
    await orders.import_service("ann", storage_gb=10)
    at = orders.clock.now()
    for n, used in enumerate([5, 9.5, 4, 9.9, 9.8]):
        measured = at + timedelta(minutes=n)
        event = new_event(
            UsageReported,
            payload=UsageReportedPayload(
                service_id="svc-ann", used_bytes=int(used * GB), measured_at=measured
            ),
            producer="panel",
            aggregate_id="svc-ann",
            aggregate_version=n + 1,
            occurred_at=measured,
        )
        await usage.record_usage(orders.ctx, event)
        await usage.record_usage(orders.ctx, event)  # redelivered: changes nothing
    old = new_event(
        UsageReported,
        payload=UsageReportedPayload(service_id="svc-ann", used_bytes=0, measured_at=at),
        producer="panel",
        aggregate_id="svc-ann",
        aggregate_version=1,
        occurred_at=at,
    )
    await usage.record_usage(orders.ctx, old)  # older than what is held: ignored
    assert orders.types().count("orders.service.storage_threshold_crossed") == 2
    assert (await orders.service("svc-ann")).used_bytes == int(9.8 * GB)


async def test_expiry_on_the_night_the_clocks_go_forward(make_orders: Any) -> None:
    orders = make_orders(FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC)))
    await orders.import_service("ann", expiry_date=date(2027, 3, 28))
    await orders.travel_to(datetime(2027, 3, 28, 21, 59, 58, tzinfo=UTC))  # 23:59:58 in Rome
    assert (await orders.service("svc-ann")).status is Status.ACTIVE
    await orders.travel_to(datetime(2027, 3, 28, 22, 0, 0, tzinfo=UTC))  # midnight in Rome
    assert (await orders.service("svc-ann")).status is Status.EXPIRED


async def test_automatic_renewal_places_one_order_at_the_lead_time(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=100)
    await orders.import_service(
        "ann", expiry_date=expiry, auto_renewal=AutoRenewal(True, 2, "card")
    )
    policy = await orders.ctx.policy("fe-standard")
    lead = start_of(expiry - timedelta(days=policy.auto_renewal_lead_days))
    await orders.travel_to(lead - timedelta(seconds=2))
    assert orders.events("orders.order.placed") == []
    await orders.travel_to(lead)
    await orders.travel_to(lead + timedelta(hours=1))
    [placed] = orders.events("orders.order.placed")
    assert placed.payload.kind.value == "automatic_renewal"
    assert placed.payload.term_years == 2 and placed.payload.payment_method == "card"
    assert "orders.service.expiring" not in orders.types()  # no reminders: it renews itself


async def test_automatic_renewal_is_announced_the_policy_days_before_the_charge(
    orders: Orders,
) -> None:
    expiry = rome_date(orders.clock.now()) + timedelta(days=100)
    await orders.import_service(
        "ann", expiry_date=expiry, auto_renewal=AutoRenewal(True, 2, "sepa_direct_debit")
    )
    policy = await orders.ctx.policy("fe-standard")
    charge_day = expiry - timedelta(days=policy.auto_renewal_lead_days)
    notice = start_of(charge_day - timedelta(days=policy.auto_renewal_notice_days))
    await orders.travel_to(notice - timedelta(seconds=2))
    assert orders.events("orders.service.automatic_renewal_upcoming") == []
    await orders.travel_to(notice)
    [upcoming] = orders.events("orders.service.automatic_renewal_upcoming")
    p = upcoming.payload
    assert (p.charge_date, p.days_left) == (charge_day, policy.auto_renewal_notice_days)
    assert (p.term_years, p.payment_method) == (2, "sepa_direct_debit")
    assert p.renewed_until == expiry.replace(year=expiry.year + 2)
    assert orders.events("orders.order.placed") == []  # nothing charged yet

    await orders.travel_to(start_of(charge_day))
    [placed] = orders.events("orders.order.placed")
    assert placed.payload.total_cents == p.total_cents  # the amount told is the amount charged
    assert orders.types() == [
        "orders.service.activated",
        "orders.service.automatic_renewal_upcoming",
    ]


async def test_automatic_renewal_switch_hides_renew_and_needs_a_stored_method(
    orders: Orders,
) -> None:
    await orders.import_service("ann")
    assert (await views.service_card(orders.ctx, "ann", "svc-ann")).actions.renew
    with pytest.raises(Invalid) as refused:
        await automatic_renewal.switch_automatic_renewal(
            orders.ctx, "ann", "svc-ann", True, None, "bank_transfer"
        )
    assert refused.value.field == "payment_method"
    switched = await automatic_renewal.switch_automatic_renewal(
        orders.ctx, "ann", "svc-ann", True, 3, "card"
    )
    assert switched.auto_renewal == AutoRenewal(True, 3, "card")
    assert not (await views.service_card(orders.ctx, "ann", "svc-ann")).actions.renew
    again = await automatic_renewal.switch_automatic_renewal(
        orders.ctx, "ann", "svc-ann", True, 3, "card"
    )
    assert again == switched
    assert orders.types().count("orders.service.automatic_renewal_switched") == 1  # once


async def test_automatic_renewal_cannot_be_switched_on_an_expired_service(orders: Orders) -> None:
    expiry = rome_date(orders.clock.now())
    await orders.import_service("ann", expiry_date=expiry)
    await orders.travel_to(end_of_rome_day(expiry))
    with pytest.raises(Conflict):
        await automatic_renewal.switch_automatic_renewal(
            orders.ctx, "ann", "svc-ann", True, 1, "card"
        )
