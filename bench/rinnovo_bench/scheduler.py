"""The orders scheduler at scale: services in the database, sweeps with nothing and with
much due.

Services are bulk-loaded with ``insert_many`` of documents built by the domain and the orders
layout (``recorded`` by the domain, laid out by ``adapters.layout``, shaped as
``rinnovo.runtime.aggregates.new_document`` stores them, outbox already relayed). The
scheduler is the real ``rinnovo.orders.entrypoints.scheduler.Scheduler`` over the real
stores; its events leave through the real relay of a ``ServiceRuntime``.

- Sweep with 0 due: ``Scheduler.sweep()`` wall time (its range query on ``next_due_at``),
  repeated, per total; the first sweep after loading is timed on its own beside it.
- Due milestones/s: that many services each with one milestone due (the 30-day reminder),
  swept until none is left, until the relay has published every event.
"""

import time
from datetime import UTC, date, datetime, timedelta

from rinnovo.catalog.adapters.seed_file import read_seed
from rinnovo.contracts.catalog import ProductPolicy
from rinnovo.orders.adapters import layout
from rinnovo.orders.bootstrap import OrdersSettings, compose
from rinnovo.orders.domain.schedule import recorded
from rinnovo.orders.domain.subscription import (
    AutoRenewal,
    Components,
    Holder,
    Status,
    Subscription,
    TimelineEntry,
)
from rinnovo.runtime import aggregates
from rinnovo.runtime.changes import CLAIMED_UNTIL, NEVER_CLAIMED
from rinnovo.runtime.clock import SystemClock, rome_date
from rinnovo.runtime.settings import InfraSettings
from rinnovo_bench.common import Json, Options, drop_database, progress, summary, unique, until

PRODUCT = "fe-standard"
PUBLISHED = "rinnovo_outbox_published_total"
LOAD_BATCH = 1000


class Bench:
    def __init__(self, options: Options, database: str | None = None) -> None:
        infra = InfraSettings(
            kafka_bootstrap_servers=options.kafka,
            mongodb_url=options.mongodb,
            kafka_topic_prefix=unique("bench.sched.") + ".",
        )
        settings = OrdersSettings(
            infra=infra,
            database=database or unique("bench_sched_"),
            log_level="WARNING",
            # The background loop is not started: the benchmark calls ``sweep`` itself.
            scheduler_interval_seconds=3600,
        )
        composed = compose(settings, SystemClock())
        self.runtime, self.scheduler = composed.runtime, composed.scheduler
        self.context, self.stores = composed.context, composed.stores
        self.loaded = 0
        self.due_loaded = 0
        self.policy: ProductPolicy | None = None

    async def prepare(self) -> None:
        for draft in read_seed().products:
            await self.context.products.apply(draft.product_id, 1, draft.published())
        self.policy = await self.context.policy(PRODUCT)
        await self.stores.ensure_indexes()

    def document(
        self,
        n: int,
        expiry: date,
        done: tuple[str, ...],
        now: datetime,
        customer: str | None = None,
    ) -> Json:
        """One service as the orders repository stores it after its import was relayed."""
        assert self.policy is not None
        service = Subscription(
            subscription_id=f"svc-{n:07d}",
            customer_id=customer or f"c-{n // 20:06d}",
            holder=Holder(name=f"Studio {n}", email=f"svc{n}@example.it", locale="it"),
            username=f"{n:08d}@example.it",
            product_id=PRODUCT,
            status=Status.ACTIVE,
            expiry_date=expiry,
            components=Components(5, 2, True),
            used_bytes=1_000_000_000,
            auto_renewal=AutoRenewal(False, 1),
            milestones_done=done,
            history=(TimelineEntry(at=now, event="activated", expiry_date=expiry),),
        )
        service = recorded(service, (), self.policy)
        fields = {
            **layout.SERVICE_CODEC.encode(service),
            layout.SERVICE_SCHEDULE.field: service.next_due_at,
            CLAIMED_UNTIL: NEVER_CLAIMED,
        }
        return aggregates.new_document(service.subscription_id, fields)

    async def load(self, total: int) -> float:
        """Grow the collection to ``total`` services none of which is due, their expiries
        spread over a year as a real customer base's are; returns seconds."""
        now = datetime.now(UTC)
        first = rome_date(now) + timedelta(days=200)
        started = time.perf_counter()
        while self.loaded < total:
            upto = min(total, self.loaded + LOAD_BATCH)
            docs = [
                self.document(n, first + timedelta(days=n % 365), (), now)
                for n in range(self.loaded, upto)
            ]
            await self.store(docs)
            self.loaded = upto
        return time.perf_counter() - started

    async def load_due(self, count: int) -> None:
        """``count`` more services, each with exactly its 30-day reminder due now."""
        now = datetime.now(UTC)
        expiry = rome_date(now) + timedelta(days=20)
        done = (f"reminder:{expiry}:90", f"reminder:{expiry}:60")
        first, self.due_loaded = self.due_loaded, self.due_loaded + count
        for start in range(first, first + count, LOAD_BATCH):
            docs = [
                self.document(1_000_000_000 + n, expiry, done, now)
                for n in range(start, min(first + count, start + LOAD_BATCH))
            ]
            await self.store(docs)

    async def store(self, docs: list[Json]) -> None:
        await self.stores.services.collection.insert_many(docs, ordered=False)

    async def full_sweep_ms(self) -> float:
        """The first sweep after loading (nothing due)."""
        started = time.perf_counter()
        assert await self.scheduler.sweep() == 0
        return (time.perf_counter() - started) * 1000

    async def empty_sweep_ms(self, times: int) -> list[float]:
        runs = []
        for _ in range(times):
            started = time.perf_counter()
            handled = await self.scheduler.sweep()
            runs.append((time.perf_counter() - started) * 1000)
            assert handled == 0
        return runs

    def published(self) -> float:
        return self.runtime.metrics.registry.get_sample_value(PUBLISHED) or 0.0

    async def due_rate(self, count: int) -> Json:
        """Milestones/s: sweeps until nothing is due, and the relay has published them all."""
        await self.load_due(count)
        before = self.published()
        started = time.perf_counter()
        handled = 0
        while (done := await self.scheduler.sweep()) > 0:
            handled += done
        swept = time.perf_counter() - started
        await until(lambda: self.published() - before >= handled, timeout=3600, poll=0.02)
        total = time.perf_counter() - started
        return {
            "due": count,
            "handled": handled,
            "events": self.published() - before,
            "sweep_seconds": swept,
            "seconds": total,
            "milestones_per_s": handled / total,
        }


async def curve(options: Options, totals: list[int], sweeps: int) -> tuple[list[Json], Json]:
    bench = Bench(options)
    points: list[Json] = []
    load_seconds: Json = {}
    try:
        async with bench.runtime.running():
            await bench.prepare()
            for total in totals:
                load_seconds[str(total)] = await bench.load(total)
                progress(f"loaded {total} services in {load_seconds[str(total)]:.1f} s")
                full = await bench.full_sweep_ms()
                runs = await bench.empty_sweep_ms(sweeps)
                progress(f"empty sweep over {total}: {sorted(runs)} ms (full query {full:.0f} ms)")
                points.append({"total": total, "full_query_ms": full} | summary(runs, "ms"))
    finally:
        await drop_database(options.mongodb, bench.runtime.db.name)
    return points, load_seconds


async def due_rates(options: Options, total: int, due: int) -> list[Json]:
    """Each repetition adds ``due`` due services to a collection of ``total`` (which grows
    by what the earlier repetitions handled)."""
    bench = Bench(options)
    rates = []
    try:
        async with bench.runtime.running():
            await bench.prepare()
            await bench.load(total)
            await bench.full_sweep_ms()
            for _ in range(options.repetitions):
                rates.append(await bench.due_rate(due))
                progress(f"due milestones: {rates[-1]}")
    finally:
        await drop_database(options.mongodb, bench.runtime.db.name)
    return rates


async def run(options: Options) -> Json:
    # The full query still reads the whole collection on FerretDB 1.x (about 0.3 ms per
    # stored service on the reference machine), and it runs once per total: totals stop
    # where a run stays short (see docs/performance.md).
    totals = [300, 1000] if options.quick else [1000, 10000, 100000]
    points, load_seconds = await curve(options, totals, options.repetitions)
    base, due = options.pick(100, 10000), options.pick(10, 1000)
    rates = await due_rates(options, base, due)
    return {
        "empty_sweep": points,
        "load_seconds": load_seconds,
        "due_milestones": {
            "total_services": base,
            "due_per_repetition": due,
            "runs": rates,
            "rate": summary([r["milestones_per_s"] for r in rates], "milestones/s"),
        },
        "targets": {"empty_sweep_ms": 50, "milestones_per_s": 5000},
    }
