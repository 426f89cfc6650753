"""The scheduler finds due work by its range query on the indexed ``next_due_at``, sorted
and limited, as on MongoDB (on FerretDB through patch 05's index, whose plans
``deploy/local/tests`` checks). On the real MongoDB-wire server; the clock is moved by hand
and sweeps are called directly (no background loop, no relay)."""

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.orders.adapters import layout
from rinnovo.orders.bootstrap import Composed, OrdersSettings, compose
from rinnovo.orders.domain.schedule import next_due, recorded
from rinnovo.orders.domain.subscription import (
    AutoRenewal,
    Components,
    Holder,
    Status,
    Subscription,
)
from rinnovo.orders.entrypoints.scheduler import Scheduler
from rinnovo.orders.service_layer.admin import import_service
from rinnovo.runtime import aggregates
from rinnovo.runtime.changes import CLAIMED_UNTIL, NEVER_CLAIMED
from rinnovo.runtime.clock import FixedClock, rome_date
from rinnovo.runtime.settings import InfraSettings

pytestmark = pytest.mark.integration

START = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def service(n: int, clock: FixedClock) -> Subscription:
    return Subscription(
        subscription_id=f"svc-{n}",
        customer_id=f"c-{n}",
        holder=Holder(name=f"Studio {n}", email=f"svc{n}@example.it", locale="it"),
        username=f"{n:08d}@example.it",
        product_id="fe-standard",
        status=Status.ACTIVE,
        expiry_date=rome_date(clock.now()) + timedelta(days=200),
        components=Components(5, 2, True),
        used_bytes=0,
        auto_renewal=AutoRenewal(False, 1),
    )


@pytest.fixture
async def orders(
    infra: InfraSettings, database_name: Callable[[str], str]
) -> AsyncIterator[tuple[Composed, FixedClock]]:
    clock = FixedClock(START)
    settings = OrdersSettings(infra=infra, database=database_name("orders"))
    composed = compose(settings, clock)
    for draft in read_seed().products:
        await composed.context.products.apply(draft.product_id, 1, draft.published())
    await composed.stores.ensure_indexes()
    try:
        yield composed, clock
    finally:
        await composed.runtime.mongo.drop_database(settings.database)
        await composed.runtime.mongo.close()


async def due_instant(composed: Composed, s: Subscription) -> datetime:
    due = next_due(s, await composed.context.policy(s.product_id))
    assert due is not None
    return due


async def test_a_milestone_is_taken_once_when_it_falls_due(
    orders: tuple[Composed, FixedClock],
) -> None:
    composed, clock = orders
    s = service(1, clock)
    due = await due_instant(composed, s)
    clock.advance(due - timedelta(seconds=30) - clock.now())
    await import_service(composed.context, s)
    assert await composed.scheduler.sweep() == 0  # not due yet
    clock.advance(timedelta(seconds=60))
    assert await composed.scheduler.sweep() == 1
    assert await composed.scheduler.sweep() == 0  # taken once
    stored = await composed.context.services.get(s.subscription_id)
    assert stored is not None
    assert len(stored.value.milestones_done) == 1
    assert stored.due_at is not None and stored.due_at > clock.now()


async def test_work_stored_by_any_writer_is_found(orders: tuple[Composed, FixedClock]) -> None:
    """Nothing but the stored due instant is needed: a document written directly (a bulk
    import, data from an older version) is found like any other."""
    composed, clock = orders
    s = service(3, clock)
    policy = await composed.context.policy(s.product_id)
    due = await due_instant(composed, s)
    s = recorded(s, (), policy)
    fields = {
        **layout.SERVICE_CODEC.encode(s),
        layout.SERVICE_SCHEDULE.field: s.next_due_at,
        CLAIMED_UNTIL: NEVER_CLAIMED,
    }
    await composed.stores.services.collection.insert_one(
        {"_id": s.subscription_id, **fields, aggregates.VERSION: 1, aggregates.INBOX: []}
    )
    clock.advance(due + timedelta(seconds=1) - clock.now())
    assert await composed.scheduler.sweep() == 1


async def test_a_claimed_service_waits_until_its_claim_runs_out(
    orders: tuple[Composed, FixedClock],
) -> None:
    composed, clock = orders
    s = service(4, clock)
    due = await due_instant(composed, s)
    await import_service(composed.context, s)
    clock.advance(due + timedelta(seconds=1) - clock.now())
    lease = timedelta(minutes=5)
    other = await composed.context.services.claim(s.subscription_id, clock.now(), lease)
    assert other is not None  # another replica took it, and died
    assert await composed.scheduler.sweep() == 0
    clock.advance(lease)
    assert await composed.scheduler.sweep() == 1


async def test_a_sweep_takes_the_soonest_first_and_at_most_a_batch(
    orders: tuple[Composed, FixedClock],
) -> None:
    composed, clock = orders
    made = [service(n, clock) for n in range(10, 15)]
    for n, s in enumerate(made):  # expiring one day apart, imported in a shuffled order
        s = replace(s, expiry_date=rome_date(clock.now()) + timedelta(days=60 + n))
        made[n] = s
    for n in (3, 0, 4, 1, 2):
        await import_service(composed.context, made[n])
    last_due = await due_instant(composed, made[-1])
    clock.advance(last_due + timedelta(seconds=1) - clock.now())
    scheduler = Scheduler(composed.context, batch=2)
    assert await scheduler.sweep() == 2
    taken = []
    for s in made:
        stored = await composed.context.services.get(s.subscription_id)
        assert stored is not None
        taken.append(len(stored.value.milestones_done) > 0)
    assert taken == [True, True, False, False, False]
    assert await scheduler.sweep() == 2
    assert await scheduler.sweep() == 1
