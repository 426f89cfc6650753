"""An open-loop load generator: a fixed arrival schedule, latency from the intended time.

Each request is started at its scheduled instant whether or not earlier ones have finished
(no coordinated omission), and its latency counts from that instant, so any lateness of the
generator itself is charged to the system, never hidden. The generator's own lateness (how
far after its instant each request actually left) is recorded separately, to show whether
the generator kept up; ``http_open_loop`` spreads one schedule over several processes when
one would not keep it.

A percentile is reported only from a window of at least ``MIN_WINDOW_S`` seconds and
``MIN_SAMPLES`` requests (``reportable``); quick runs use shorter windows and say so.
"""

import asyncio
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from rinnovo_bench.common import Json, http_limits

MAX_MICROS = 600_000_000
PERCENTILES = (50.0, 90.0, 99.0, 99.9, 100.0)
MIN_WINDOW_S = 30.0
MIN_SAMPLES = 2000


def window(rate: float, quick: bool, quick_seconds: float) -> float:
    """Seconds of an open loop at ``rate``: long enough for reportable percentiles."""
    return quick_seconds if quick else max(MIN_WINDOW_S, MIN_SAMPLES / rate)


def histogram() -> Any:
    return HdrHistogram(1, MAX_MICROS, 3)


def percentiles_ms(hist: Any) -> Json:
    count = int(hist.get_total_count())
    if count == 0:
        return {"count": 0}
    return {
        "count": count,
        **{f"p{p:g}": hist.get_value_at_percentile(p) / 1000 for p in PERCENTILES},
        "mean": float(hist.get_mean_value()) / 1000,
    }


@dataclass
class OpenLoopResult:
    rate: float
    seconds: float
    latency: Any = field(default_factory=histogram)
    lateness: Any = field(default_factory=histogram)
    errors: int = 0
    timeouts: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    completed: int = 0
    processes: int = 1

    def reportable(self) -> bool:
        samples = int(self.latency.get_total_count())
        return self.seconds >= MIN_WINDOW_S and samples >= MIN_SAMPLES

    def merge(self, other: "OpenLoopResult") -> None:
        """Add another process's share of the same schedule."""
        self.latency.add(other.latency)
        self.lateness.add(other.lateness)
        self.errors += other.errors
        self.timeouts += other.timeouts
        self.cpu_seconds += other.cpu_seconds
        self.wall_seconds = max(self.wall_seconds, other.wall_seconds)
        self.completed += other.completed

    def to_json(self) -> Json:
        return {
            "rate": self.rate,
            "seconds": self.seconds,
            "reportable": self.reportable(),
            "processes": self.processes,
            "completed": self.completed,
            "achieved_rate": self.completed / self.wall_seconds if self.wall_seconds else 0.0,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "latency_ms": percentiles_ms(self.latency),
            "generator": {
                "lateness_ms": percentiles_ms(self.lateness),
                "cpu_seconds": self.cpu_seconds,
                "cpu_share_of_one_core": self.cpu_seconds / self.wall_seconds
                if self.wall_seconds
                else 0.0,
            },
        }


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def open_loop(
    rate: float,
    seconds: float,
    send: Callable[[int], Awaitable[bool]],
    *,
    timeout: float = 10.0,
    start_in: float = 0.05,
    share: tuple[int, int] = (0, 1),
) -> OpenLoopResult:
    """Call ``send(i)`` at ``rate``/s for ``seconds``; ``send`` returns False on an error.

    A request still running ``timeout`` seconds after its instant is abandoned and counted
    as a timeout, with the timeout as its latency (a lower bound). ``share`` (k, n): only
    the requests ``i`` with ``i % n == k``, as one of ``n`` processes of one schedule.
    """
    result = OpenLoopResult(rate, seconds)
    loop = asyncio.get_running_loop()
    total = max(1, int(rate * seconds))
    cpu_before = cpu_seconds()
    start = loop.time() + start_in

    async def one(i: int, intended: float) -> None:
        result.lateness.record_value(max(1, int((loop.time() - intended) * 1e6)))
        try:
            async with asyncio.timeout(timeout - (loop.time() - intended)):
                ok = await send(i)
        except TimeoutError:
            result.timeouts += 1
            result.latency.record_value(int(timeout * 1e6))
            return
        except Exception:
            ok = False
        if not ok:
            result.errors += 1
        result.completed += 1
        result.latency.record_value(max(1, int((loop.time() - intended) * 1e6)))

    tasks = []
    mine, of = share
    for i in range(mine, total, of):
        intended = start + i / rate
        delay = intended - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, intended)))
    await asyncio.gather(*tasks)
    result.wall_seconds = loop.time() - start
    result.cpu_seconds = cpu_seconds() - cpu_before
    return result


@dataclass(frozen=True)
class HttpRequests:
    """GETs of one path, cycling through headers (one per caller), each expected to answer
    ``status`` with a JSON list of ``items`` elements (if given). Sent from other processes."""

    base_url: str
    path: str
    headers: tuple[tuple[tuple[str, str], ...], ...]
    status: int = 200
    items: int | None = None


def _share_of_http_open_loop(
    requests: HttpRequests,
    rate: float,
    seconds: float,
    timeout: float,
    at: float,
    share: int,
    of: int,
) -> tuple[bytes, bytes, list[float]]:
    """One process's share (its ``open_loop``), from the wall-clock instant ``at``."""
    import httpx

    async def run() -> OpenLoopResult:
        limits = http_limits(64)
        async with httpx.AsyncClient(base_url=requests.base_url, limits=limits) as client:

            async def send(i: int) -> bool:
                headers = dict(requests.headers[i % len(requests.headers)])
                answer = await client.get(requests.path, headers=headers, timeout=timeout)
                if answer.status_code != requests.status:
                    return False
                return requests.items is None or len(answer.json()) == requests.items

            return await open_loop(
                rate, seconds, send, timeout=timeout, start_in=at - time.time(), share=(share, of)
            )

    result = asyncio.run(run())
    counts = [result.errors, result.timeouts, result.cpu_seconds, result.wall_seconds]
    return result.latency.encode(), result.lateness.encode(), [*counts, result.completed]


async def http_open_loop(
    requests: HttpRequests, rate: float, seconds: float, *, processes: int, timeout: float
) -> OpenLoopResult:
    """``open_loop`` of GETs, its schedule shared by ``processes`` generator processes."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    at = time.time() + 5.0  # the processes start and import first
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        shares = await asyncio.gather(
            *(
                loop.run_in_executor(
                    pool,
                    _share_of_http_open_loop,
                    requests,
                    rate,
                    seconds,
                    timeout,
                    at,
                    k,
                    processes,
                )
                for k in range(processes)
            )
        )
    result = OpenLoopResult(rate, seconds, processes=processes)
    for latency, lateness, (errors, timeouts, cpu, wall, completed) in shares:
        part = OpenLoopResult(
            rate, seconds, HdrHistogram.decode(latency), HdrHistogram.decode(lateness)
        )
        part.errors, part.timeouts, part.completed = int(errors), int(timeouts), int(completed)
        part.cpu_seconds, part.wall_seconds = cpu, wall
        result.merge(part)
    return result


async def closed_loop(
    concurrency: int, seconds: float, send: Callable[[int], Awaitable[bool]]
) -> Json:
    """The most the system does: ``concurrency`` callers back to back for ``seconds``."""
    done = 0
    errors = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    cpu_before = cpu_seconds()
    hist = histogram()

    async def caller(k: int) -> None:
        nonlocal done, errors
        i = k
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            if not await send(i):
                errors += 1
            hist.record_value(max(1, int((time.perf_counter() - t0) * 1e6)))
            done += 1
            i += concurrency

    await asyncio.gather(*(caller(k) for k in range(concurrency)))
    wall = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "seconds": wall,
        "completed": done,
        "errors": errors,
        "rate": done / wall,
        "latency_ms": percentiles_ms(hist),
        "generator_cpu_share_of_one_core": (cpu_seconds() - cpu_before) / wall,
    }
