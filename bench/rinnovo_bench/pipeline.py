"""The renewal pipeline across the four services, each its own process.

One renewal: the customer checks out a renewal cart (orders places the order) → payments
requests the payment (``payments.payment.requested``) → the bank statement with the transfer
is imported through payments' admin API (payments registers the payment) → orders renews
the service → the notifier's "renewal completed" e-mail is accepted by the SMTP server.
The generator does the two outside actions (the checkout, the statement as soon as the
payment is requested) and times each stage.

- the idle stack: CPU of Kafka, FerretDB and the services doing nothing, as a share of one
  core, once warmed up (after the load below, the generator's own consumer stopped and the
  stack settled), as a deployment idles all day; and also in the first minute after the
  start, when Kafka's JVM is still compiling;
- max sustainable rate: a closed loop of concurrent renewals, with the cost account of those
  renewals (``cost``: CPU per renewal of every process, database commands and Kafka
  requests per renewal of every service);
- a profile of the service that spent the most CPU per renewal, under another closed loop;
- latency at 50% of the max rate: an open loop over a reportable window, from each
  renewal's intended start to the SMTP server's acceptance of its e-mail (HdrHistogram);
- the resident size of every service process, idle and under that load.
"""

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from rinnovo.devstack.services import SERVICES, ServiceProcesses
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import rome_date
from rinnovo.testing.smtp import Inbox, SmtpServer
from rinnovo_bench import cost
from rinnovo_bench.common import (
    Json,
    Options,
    drop_database,
    http_limits,
    progress,
    summary,
    unique,
)
from rinnovo_bench.loadgen import histogram, open_loop, percentiles_ms, window
from rinnovo_bench.processes import rss_mib, service_env, start
from rinnovo_bench.profile import Profiler

ACCEPT = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}
WAIT_SECONDS = 120.0
SUBJECT = "Rinnovo completato: "
STAGES = ("checkout", "payment_requested", "statement", "email")
WARM_UP = 5
"""Renewals done one at a time before any is measured (the first carts prepared)."""


class Rendezvous:
    """Arrivals by key, awaited by key, whichever comes first."""

    def __init__(self) -> None:
        self._futures: dict[str, asyncio.Future[float]] = {}

    def _future(self, key: str) -> asyncio.Future[float]:
        if key not in self._futures:
            self._futures[key] = asyncio.get_running_loop().create_future()
        return self._futures[key]

    def arrive(self, key: str, at: float) -> None:
        future = self._future(key)
        if not future.done():
            future.set_result(at)

    async def wait(self, key: str) -> float:
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                return await self._future(key)
        finally:
            self._futures.pop(key, None)


class TimedInbox(Inbox):
    """The SMTP server's handler: tells the bench when a renewal's e-mail was accepted."""

    def __init__(self, loop: asyncio.AbstractEventLoop, emails: Rendezvous) -> None:
        super().__init__()
        self._loop = loop
        self._emails = emails

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        accepted = time.monotonic()  # the clock of asyncio's loop.time()
        message: EmailMessage = self.messages.pop()
        subject = str(message["Subject"])
        if subject.startswith(SUBJECT):
            username = subject.removeprefix(SUBJECT).split(" ", 1)[0]
            self._loop.call_soon_threadsafe(self._emails.arrive, username, accepted)
        return reply


class Pipeline:
    def __init__(
        self,
        options: Options,
        processes: ServiceProcesses,
        topic_prefix: str,
        emails: Rendezvous,
    ) -> None:
        self.options = options
        self.processes = processes
        self.topic = topic_prefix + "payments.payment.v1"
        self.requested = Rendezvous()
        self.emails = emails
        self.admin = {"Authorization": f"Bearer {issue_token(AuthSettings(), 'ops', {'admin'})}"}
        limits = http_limits(128)
        self.orders = httpx.AsyncClient(
            base_url=processes.url("orders"), limits=limits, timeout=60.0
        )
        self.payments = httpx.AsyncClient(
            base_url=processes.url("payments"), limits=limits, timeout=60.0
        )
        self.carts: list[tuple[str, str, str]] = []
        """Renewal carts ready to check out: (customer token, cart id, username)."""
        self.stages = {stage: histogram() for stage in STAGES}
        self.failures = 0
        self.last_failure = ""
        self._watcher: asyncio.Task[None] | None = None

    async def watch(self) -> None:
        """Start seeing the payments requested (before the first renewal)."""
        ready = asyncio.Event()
        self._watcher = asyncio.create_task(self.watch_payments(ready))
        await ready.wait()

    async def stop_watching(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def close(self) -> None:
        await self.stop_watching()
        await self.orders.aclose()
        await self.payments.aclose()

    async def watch_payments(self, ready: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=self.options.kafka, auto_offset_reset="latest"
        )
        await consumer.start()
        try:
            while not consumer.assignment():
                await asyncio.sleep(0.05)
            for partition in consumer.assignment():
                await consumer.position(partition)
            ready.set()
            async for record in consumer:
                event = json.loads(record.value)
                if event["type"] == "payments.payment.requested":
                    self.requested.arrive(event["payload"]["order_id"], time.monotonic())
        finally:
            await consumer.stop()

    async def prepare(self, count: int) -> None:
        """``count`` active services, each with a renewal cart paid by bank transfer."""
        expiry = (rome_date(datetime.now(UTC)) + timedelta(days=120)).isoformat()
        semaphore = asyncio.Semaphore(8)
        base = len(self.carts)

        async def one(n: int) -> tuple[str, str, str]:
            customer, service, username = f"pc-{n:06d}", f"psvc-{n:06d}", f"p{n:07d}@bench.it"
            body = {
                "service_id": service,
                "customer_id": customer,
                "holder": {"name": f"Studio {n}", "email": f"p{n}@bench.example", "locale": "it"},
                "username": username,
                "product_id": "fe-standard",
                "expiry_date": expiry,
                "storage_gb": 1,
            }
            token = {
                "Authorization": f"Bearer {issue_token(AuthSettings(), customer, {'customer'})}"
            }
            async with semaphore:
                imported = await self.orders.post(
                    "/v1/admin/services", json=body, headers=self.admin
                )
                assert imported.status_code == 201, imported.text
                cart = await self.orders.post(
                    "/v1/carts", json={"kind": "renewal", "service_id": service}, headers=token
                )
                assert cart.status_code == 201, cart.text
                cart_id = cart.json()["cart_id"]
                method = await self.orders.patch(
                    f"/v1/carts/{cart_id}", json={"payment_method": "bank_transfer"}, headers=token
                )
                assert method.status_code == 200, method.text
            return token["Authorization"], cart_id, username

        self.carts.extend(await asyncio.gather(*(one(base + n) for n in range(count))))

    def failed(self, reason: str) -> bool:
        self.failures += 1
        self.last_failure = reason
        return False

    async def renew(self, i: int, started: float) -> bool:
        """One renewal, from checkout to the e-mail; stage times from ``started``."""
        token, cart_id, username = self.carts[i]
        placed = await self.orders.post(
            f"/v1/carts/{cart_id}/checkout",
            json={"acceptances": ACCEPT},
            headers={"Authorization": token},
        )
        if placed.status_code != 201:
            return self.failed(f"checkout answered {placed.status_code}: {placed.text}")
        order = placed.json()
        marks = [time.monotonic()]
        try:
            marks.append(await self.requested.wait(order["order_id"]))
        except TimeoutError:
            return self.failed(f"no payment requested for {order['number']}")
        today = datetime.now(UTC).date()
        line = f"T{i:07d},{today},{euro(order['total_cents'])},{order['number']},Studio\n"
        imported = await self.payments.post(
            "/v1/admin/statements",
            content=("transaction_id,date,amount,remittance,payer\n" + line).encode(),
            headers={**self.admin, "Content-Type": "text/csv"},
        )
        if imported.status_code != 200 or imported.json()["registered"] != 1:
            return self.failed(f"statement answered {imported.status_code}: {imported.text}")
        marks.append(time.monotonic())
        try:
            marks.append(await self.emails.wait(username))
        except TimeoutError:
            return self.failed(f"no renewal e-mail for {username}")
        previous = started
        for stage, mark in zip(STAGES, marks, strict=True):
            self.stages[stage].record_value(max(1, int((mark - previous) * 1e6)))
            previous = mark
        return True


def euro(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


async def closed_loop(pipeline: Pipeline, first: int, count: int, concurrency: int) -> float:
    """Renewals/s with ``concurrency`` renewals always in flight."""
    queue = iter(range(first, first + count))
    loop = asyncio.get_running_loop()

    async def worker() -> None:
        for i in queue:
            await pipeline.renew(i, loop.time())

    started = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (loop.time() - started)


async def warm_up(pipeline: Pipeline) -> None:
    loop = asyncio.get_running_loop()
    for i in range(WARM_UP):
        if not await pipeline.renew(i, loop.time()):
            raise RuntimeError(f"a renewal failed: {pipeline.last_failure}")
    progress("warmed up")


async def sample_rss(processes: ServiceProcesses, stop: asyncio.Event) -> dict[str, float]:
    peak: dict[str, float] = {}
    while not stop.is_set():
        for name in SERVICES:
            with contextlib.suppress(OSError, LookupError):
                peak[name] = max(peak.get(name, 0.0), rss_mib(processes.pid(name)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return peak


def stack_pids(options: Options, processes: ServiceProcesses) -> dict[str, int]:
    """The processes of the stack: the servers the bench started and the four services."""
    return {**options.servers, **{name: processes.pid(name) for name in SERVICES}}


async def idle_stack(options: Options, processes: ServiceProcesses) -> Json:
    """CPU of the whole stack doing nothing, as a share of one core."""
    pids = stack_pids(options, processes)
    before = await cost.snapshot(pids)
    await asyncio.sleep(options.pick(5, 30))
    return cost.idle_share(before, await cost.snapshot(pids))


async def max_rate(options: Options, processes: ServiceProcesses, pipeline: Pipeline) -> Json:
    """The closed loop's repetitions, and the cost account of all their renewals."""
    concurrency = options.pick(8, 16)
    per_rep = options.pick(9, 120) // options.repetitions
    pids = stack_pids(options, processes) | {"generator": os.getpid()}
    urls = {name: processes.url(name) for name in SERVICES}
    before = await cost.snapshot(pids, urls)
    rates = []
    for rep in range(options.repetitions):
        first = WARM_UP + rep * per_rep
        rates.append(await closed_loop(pipeline, first, per_rep, concurrency))
        progress(f"closed loop of {concurrency}: {rates[-1]:.2f} renewals/s")
    account = cost.account(before, await cost.snapshot(pids, urls), per_rep * options.repetitions)
    if pipeline.failures:
        raise RuntimeError(f"{pipeline.failures} renewals failed: {pipeline.last_failure}")
    summarised = summary(rates, "renewals/s") | {"concurrency": concurrency, "renewals": per_rep}
    return {"max_rate": summarised, "cost": account}


async def profile(
    options: Options, processes: ServiceProcesses, pipeline: Pipeline, account: Json, out: Path
) -> Json:
    """py-spy on the service with the most CPU per renewal, under a closed loop."""
    per_service = {n: account["cpu_ms_per_unit"][n] for n in SERVICES}
    hottest = max(per_service, key=per_service.__getitem__)
    count = options.pick(8, 120)
    await pipeline.prepare(count)
    out.parent.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(processes.pid(hottest), out)
    await closed_loop(pipeline, len(pipeline.carts) - count, count, options.pick(8, 16))
    frames = profiler.stop()
    progress(f"profiled {hottest}: {frames['samples'] if frames else profiler.error} samples")
    return {"service": hottest, "renewals": count, "frames": frames, "error": profiler.error}


async def measure(
    options: Options, processes: ServiceProcesses, pipeline: Pipeline, log_dir: Path
) -> Json:
    loop = asyncio.get_running_loop()
    idle = {name: rss_mib(processes.pid(name)) for name in SERVICES}
    await pipeline.prepare(options.pick(9, 120) + WARM_UP)
    progress(f"{len(pipeline.carts)} services with a renewal cart")
    await warm_up(pipeline)
    closed = await max_rate(options, processes, pipeline)
    profiled = await profile(options, processes, pipeline, closed["cost"], log_dir / "profile.txt")
    rate = closed["max_rate"]["median"] / 2
    seconds = window(rate, options.quick, 6.0)
    count = max(5, int(rate * seconds))
    await pipeline.prepare(count)
    progress(f"open loop of {count} renewals at {rate:.2f}/s ({seconds:.0f} s)")
    offset = len(pipeline.carts) - count
    pipeline.stages = {stage: histogram() for stage in STAGES}
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(processes, stop))
    result = await open_loop(
        rate, count / rate, lambda i: pipeline.renew(offset + i, loop.time()), timeout=60.0
    )
    stop.set()
    loaded = await sampler
    progress(f"open loop at {rate:.2f}/s: {percentiles_ms(result.latency)}")
    return closed | {
        "profile": profiled,
        "open_loop": result.to_json(),
        "latency_histogram": result.latency.encode().decode(),
        "stages_ms": {s: percentiles_ms(h) for s, h in pipeline.stages.items()},
        "failures": pipeline.failures,
        "rss_mib": {"idle": idle, "under_load_peak": loaded},
        "targets": {"max_rate": 60, "p99_ms": 500, "rss_mib": 150},
    }


@contextlib.asynccontextmanager
async def running(
    options: Options, log_dir: Path, environment: Mapping[str, str] | None = None
) -> AsyncIterator[Pipeline]:
    """The services as processes on databases and topics of their own (with ``environment``
    added to theirs), an SMTP server, and the generator driving them; all gone after."""
    databases = {name: unique(f"bench_pipe_{name}_") for name in SERVICES}
    prefix = unique("bench.pipe.") + "."
    emails = Rendezvous()
    smtp = SmtpServer()
    smtp.inbox = TimedInbox(asyncio.get_running_loop(), emails)
    env = service_env(options, prefix, databases) | {
        "RINNOVO_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "RINNOVO_NOTIFIER_SMTP_PORT": str(smtp.port),
        "RINNOVO_NOTIFIER_SMTP_STARTTLS": "false",
        "RINNOVO_NOTIFIER_CHANNELS": "email",
        "RINNOVO_PAYMENTS_METHODS": '["bank_transfer","postal_slip"]',
        **(environment or {}),
    }
    for name in SERVICES:  # the cost account's round trips
        env[f"RINNOVO_{name.upper()}_IO_METRICS"] = "true"
    smtp.start()
    try:
        processes = await asyncio.to_thread(start, options, log_dir, SERVICES, env)
        pipeline = Pipeline(options, processes, prefix, emails)
        try:
            yield pipeline
        finally:
            await pipeline.close()
            await asyncio.to_thread(processes.stop_all)
    finally:
        smtp.stop()
        for database in databases.values():
            await drop_database(options.mongodb, database)


async def run(options: Options, log_dir: Path) -> Json:
    async with running(options, log_dir) as pipeline:
        await asyncio.sleep(options.pick(2, 10))  # the services settle after their start
        at_start = await idle_stack(options, pipeline.processes)
        progress(f"idle stack at start: {at_start['total_percent']:.1f} % of one core")
        await pipeline.watch()
        measured = await measure(options, pipeline.processes, pipeline, log_dir)
        await pipeline.stop_watching()  # a consumer of the bench's own would keep Kafka busy
        await asyncio.sleep(options.pick(5, 30))  # the last relays and consumers go quiet
        idle = await idle_stack(options, pipeline.processes)
        progress(f"idle stack, warmed up: {idle['total_percent']:.1f} % of one core")
        return measured | {"idle_stack": idle, "idle_stack_at_start": at_start}
