"""The scheduler finds due work through the agenda, by ``_id``, and its full query on
``next_due_at`` finds what the agenda missed. On the real MongoDB-wire server; the clock is
moved by hand and sweeps are called directly (no background loop, no relay)."""

from collections.abc import AsyncIterator, Callable
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
from rinnovo.orders.entrypoints.scheduler import MAX_PAGES
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
