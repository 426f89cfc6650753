"""The scheduler finds due work through the agenda, by ``_id``, and its full query on
``next_due_at`` finds what the agenda missed; work already due when it is written is taken at
once. On the real MongoDB-wire server; the clock is moved by hand and sweeps are called
directly (no relay), except where the background loop itself is what is tested."""

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
from rinnovo.orders.entrypoints.scheduler import MAX_PAGES
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


class Counted:
    """Counts the scheduler's full queries on the services."""

    def __init__(self, composed: Composed) -> None:
        self.calls = 0
        store = composed.stores.services
        full_query = store.due

        async def due(now: datetime, limit: int, where: object = None) -> list[str]:
            self.calls += 1
            return await full_query(now, limit)

        store.due = due  # type: ignore[method-assign,assignment]


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


async def test_a_milestone_is_found_through_the_agenda_without_the_full_query(
    orders: tuple[Composed, FixedClock],
) -> None:
    composed, clock = orders
    s = service(1, clock)
    due = await due_instant(composed, s)
    clock.advance(due - timedelta(seconds=30) - clock.now())
    await import_service(composed.context, s)
    assert await composed.scheduler.sweep() == 0  # the first sweep is the full query

    full = Counted(composed)
    assert await composed.scheduler.sweep() == 0  # not due yet: the agenda says when
    clock.advance(timedelta(seconds=60))
    assert await composed.scheduler.sweep() == 1
    assert await composed.scheduler.sweep() == 0  # taken once
    assert full.calls == 0

    stored = await composed.context.services.get(s.subscription_id)
    assert stored is not None
    assert len(stored.value.milestones_done) == 1
    assert stored.due_at is not None and stored.due_at > clock.now()


async def test_a_stale_note_is_skipped(orders: tuple[Composed, FixedClock]) -> None:
    composed, clock = orders
    s = service(2, clock)
    await import_service(composed.context, s)  # due in about 110 days
    assert await composed.scheduler.sweep() == 0
    agenda = composed.stores.service_agenda
    await agenda.note(s.subscription_id, clock.now())  # what an overtaken write leaves
    await agenda.note("svc-never-written", clock.now())
    clock.advance(timedelta(seconds=1))
    assert await composed.scheduler.sweep() == 0
    stored = await composed.context.services.get(s.subscription_id)
    assert stored is not None and stored.value.milestones_done == ()


async def test_what_the_agenda_missed_the_full_query_finds(
    orders: tuple[Composed, FixedClock],
) -> None:
    composed, clock = orders
    s = service(3, clock)
    store = composed.stores.services
    policy = await composed.context.policy(s.product_id)
    due = await due_instant(composed, s)
    clock.advance(due - timedelta(seconds=30) - clock.now())
    assert await composed.scheduler.sweep() == 0
    # Stored, but never noted: as if its note had been lost.
    s = recorded(s, (), policy)
    fields = {
        **layout.SERVICE_CODEC.encode(s),
        layout.SERVICE_SCHEDULE.field: s.next_due_at,
        CLAIMED_UNTIL: NEVER_CLAIMED,
    }
    await store.collection.insert_one(
        {"_id": s.subscription_id, **fields, aggregates.VERSION: 1, aggregates.INBOX: []}
    )
    clock.advance(timedelta(seconds=60))
    assert await composed.scheduler.sweep() == 0  # not in the agenda
    assert await composed.scheduler.sweep_all(clock.now()) == 1  # the safety net


async def test_a_clock_jump_beyond_the_agenda_runs_the_full_query(
    orders: tuple[Composed, FixedClock],
) -> None:
    composed, clock = orders
    assert await composed.scheduler.sweep() == 0
    full = Counted(composed)
    clock.advance(timedelta(minutes=MAX_PAGES - 5))
    assert await composed.scheduler.sweep() == 0
    assert full.calls == 0
    clock.advance(timedelta(minutes=MAX_PAGES + 5))
    assert await composed.scheduler.sweep() == 0
    assert full.calls == 1


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


async def test_a_second_write_in_the_same_minute_is_taken_by_the_next_sweep(
    orders: tuple[Composed, FixedClock],
) -> None:
    """A service taken by a sweep, then written again within the same minute with new work
    due at once (automatic renewal switched on after its charge day): the next sweep takes
    it, not the full query minutes later."""
    composed, clock = orders
    assert await composed.scheduler.sweep() == 0  # the first sweep is the full query
    s = replace(service(6, clock), expiry_date=rome_date(clock.now()) + timedelta(days=20))
    await import_service(composed.context, s)
    clock.advance(timedelta(seconds=1))
    assert await composed.scheduler.sweep() == 1  # the reminders due at import
    await switch_automatic_renewal(
        composed.context, s.customer_id, s.subscription_id, True, 1, "card"
    )
    clock.advance(timedelta(seconds=1))
    full = Counted(composed)
    assert await composed.scheduler.sweep() == 1
    assert full.calls == 0
    assert f"auto:{s.expiry_date}" in await done(composed, s.subscription_id)
