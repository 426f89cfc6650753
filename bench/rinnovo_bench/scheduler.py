"""The orders scheduler at scale: services in the database, sweeps with nothing and with
much due.

Services are bulk-loaded with ``insert_many`` of documents built by the domain and the orders
layout (``recorded`` by the domain, laid out by ``adapters.layout``, shaped as
``rinnovo.runtime.aggregates.new_document`` stores them, outbox already relayed): one document
per expiry day is built so, and each service is a copy of its day's with its own ids. Each
load batch shares an expiry day (expiries cycle through a year batch by batch). The scheduler
is the real ``rinnovo.orders.entrypoints.scheduler.Scheduler`` over the real stores; its
events leave through the real relay of a ``ServiceRuntime``.

- Sweep with 0 due: ``Scheduler.sweep()`` wall time, repeated, per total. A sweep is one range
  query per collection (``next_due_at <= now``, unclaimed, sorted, with the batch as limit);
  the first sweep after each load is timed beside the others (``first_sweep``).
- Due milestones/s at the largest total: that many services each with one milestone due
  (the 30-day reminder), swept until none is left, until the relay has published every
  event.
"""

import asyncio
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
LOAD_BATCH = 2000
TOTALS = {"quick": [300, 1000], "full": [1000, 10_000, 100_000, 1_000_000]}
SLOW_QUERY_S = 10.0
"""Sweeps slower than this in all (a server that scans) are not repeated."""


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
        self._templates: dict[date, Json] = {}

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

    def copy(self, n: int, expiry: date, now: datetime) -> Json:
        """Service ``n`` expiring on ``expiry``: its day's document with its own ids."""
        template = self._templates.get(expiry)
        if template is None:
            template = self._templates[expiry] = self.document(0, expiry, (), now)
        service, customer = f"svc-{n:07d}", f"c-{n // 20:06d}"
        state = template["state"] | {
            "subscription_id": service,
            "customer_id": customer,
            "holder": {"name": f"Studio {n}", "email": f"svc{n}@example.it", "locale": "it"},
            "username": f"{n:08d}@example.it",
        }
        return template | {"_id": service, "state": state, "customer_id": customer}

    async def load(self, total: int) -> float:
        """Grow the collection to ``total`` services none of which is due, their expiries
        cycling through a year batch by batch; returns seconds. The next batch is built while
        the server stores the last one."""
        now = datetime.now(UTC)
        first = rome_date(now) + timedelta(days=200)
        started = time.perf_counter()
        storing: asyncio.Task[None] | None = None
        while self.loaded < total:
            upto = min(total, self.loaded + LOAD_BATCH)
            expiry = first + timedelta(days=(self.loaded // LOAD_BATCH) % 365)
            docs = [self.copy(n, expiry, now) for n in range(self.loaded, upto)]
            if storing is not None:
                await storing
            storing = asyncio.create_task(self.store(docs))
            self.loaded = upto
        if storing is not None:
            await storing
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

    async def empty_sweep_ms(self, times: int) -> list[float]:
        """The sweep with nothing due, ``times`` times (fewer if they take over
        ``SLOW_QUERY_S`` in all, as on a server that scans)."""
        runs: list[float] = []
        while len(runs) < times and sum(runs) < SLOW_QUERY_S * 1000:
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


async def run(options: Options) -> Json:
    """The curve of the empty sweep over the totals, in one database grown step by step,
    then the due milestones at the largest total."""
    bench = Bench(options)
    totals = TOTALS["quick" if options.quick else "full"]
    points: list[Json] = []
    load_seconds: Json = {}
    rates: list[Json] = []
    try:
        async with bench.runtime.running():
            await bench.prepare()
            for total in totals:
                load_seconds[str(total)] = await bench.load(total)
                progress(f"loaded {total:,} services in {load_seconds[str(total)]:.1f} s")
                first = await bench.empty_sweep_ms(1)
                runs = await bench.empty_sweep_ms(options.repetitions)
                progress(f"{total:,}: empty sweep {sorted(runs)} ms, first {first} ms")
                points.append(
                    {"total": total, "first_sweep": summary(first, "ms")} | summary(runs, "ms")
                )
            due = options.pick(10, 1000)
            for _ in range(options.repetitions):
                rates.append(await bench.due_rate(due))
                progress(f"due milestones: {rates[-1]}")
    finally:
        await drop_database(options.mongodb, bench.runtime.db.name)
    return {
        "empty_sweep": points,
        "load_seconds": load_seconds,
        "load_batch": LOAD_BATCH,
        "due_milestones": {
            "total_services": totals[-1],
            "due_per_repetition": options.pick(10, 1000),
            "runs": rates,
            "rate": summary([r["milestones_per_s"] for r in rates], "milestones/s"),
        },
        "targets": {"empty_sweep_ms": 50, "milestones_per_s": 500},
    }
