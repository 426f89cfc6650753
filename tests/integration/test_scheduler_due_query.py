"""The scheduler finds due work by its range query on the indexed ``next_due_at``, sorted
and limited, as on MongoDB (on FerretDB through patch 05's index, whose plans
``deploy/local/tests`` checks); work already due when it is written is taken at once. On the
real MongoDB-wire server; the clock is moved by hand and sweeps are called directly (no
relay), except where the background loop itself is what is tested."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

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
from rinnovo.orders.service_layer.automatic_renewal import switch_automatic_renewal
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


@contextlib.asynccontextmanager
async def composed_orders(
    infra: InfraSettings, database: str, **settings: Any
) -> AsyncIterator[tuple[Composed, FixedClock]]:
    clock = FixedClock(START)
    composed = compose(OrdersSettings(infra=infra, database=database, **settings), clock)
    for draft in read_seed().products:
        await composed.context.products.apply(draft.product_id, 1, draft.published())
    await composed.stores.ensure_indexes()
    try:
        yield composed, clock
    finally:
        await composed.runtime.mongo.drop_database(database)
        await composed.runtime.mongo.close()


@pytest.fixture
async def orders(
    infra: InfraSettings, database_name: Callable[[str], str]
) -> AsyncIterator[tuple[Composed, FixedClock]]:
    async with composed_orders(infra, database_name("orders")) as composed:
        yield composed


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


def sweeps(composed: Composed) -> float:
    found = composed.runtime.metrics.registry.get_sample_value(
        "rinnovo_sweeps_total", {"loop": "milestones"}
    )
    return found or 0.0


async def done(composed: Composed, service_id: str) -> tuple[str, ...]:
    stored = await composed.context.services.get(service_id)
    assert stored is not None
    return stored.value.milestones_done


async def test_a_milestone_due_when_written_is_taken_at_once(
    infra: InfraSettings,
    database_name: Callable[[str], str],
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    """The scheduler's loop sweeps only once an hour here: the reminder of a service imported
    the day before its expiry is taken because the write woke it, not because time passed."""
    async with composed_orders(infra, database_name("orders"), scheduler_interval_seconds=3600) as (
        composed,
        clock,
    ):
        loop = asyncio.create_task(composed.scheduler.run())
        try:

            async def first_sweep_over() -> bool:
                return sweeps(composed) >= 1

            await wait_until(first_sweep_over)  # now the loop waits out its hour
            s = replace(service(5, clock), expiry_date=rome_date(clock.now()) + timedelta(days=1))
            await import_service(composed.context, s)

            async def reminded() -> bool:
                return f"reminder:{s.expiry_date}:1" in await done(composed, s.subscription_id)

            await wait_until(reminded, 10.0)
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop


async def test_a_second_write_with_work_due_at_once_is_taken_by_the_next_sweep(
    orders: tuple[Composed, FixedClock],
) -> None:
    """A service taken by a sweep, then written again with new work due at once (automatic
    renewal switched on after its charge day): the next sweep takes it."""
    composed, clock = orders
    assert await composed.scheduler.sweep() == 0
    s = replace(service(6, clock), expiry_date=rome_date(clock.now()) + timedelta(days=20))
    await import_service(composed.context, s)
    clock.advance(timedelta(seconds=1))
    assert await composed.scheduler.sweep() == 1  # the reminders due at import
    await switch_automatic_renewal(
        composed.context, s.customer_id, s.subscription_id, True, 1, "card"
    )
    clock.advance(timedelta(seconds=1))
    assert await composed.scheduler.sweep() == 1
    assert f"auto:{s.expiry_date}" in await done(composed, s.subscription_id)
