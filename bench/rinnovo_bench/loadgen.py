"""An open-loop load generator: a fixed arrival schedule, latency from the intended time.

Each request is started at its scheduled instant whether or not earlier ones have finished
(no coordinated omission), and its latency counts from that instant, so any lateness of the
generator itself is charged to the system, never hidden. The generator's own lateness (how
far after its instant each request actually left) is recorded separately, to show whether
the generator kept up.
"""

import asyncio
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

from rinnovo_bench.common import Json

MAX_MICROS = 600_000_000
PERCENTILES = (50.0, 90.0, 99.0, 99.9, 100.0)


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

    def to_json(self) -> Json:
        return {
            "rate": self.rate,
            "seconds": self.seconds,
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
) -> OpenLoopResult:
    """Call ``send(i)`` at ``rate``/s for ``seconds``; ``send`` returns False on an error.

    A request still running ``timeout`` seconds after its instant is abandoned and counted
    as a timeout, with the timeout as its latency (a lower bound).
    """
    result = OpenLoopResult(rate, seconds)
    loop = asyncio.get_running_loop()
    total = max(1, int(rate * seconds))
    cpu_before = cpu_seconds()
    start = loop.time() + 0.05

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
    for i in range(total):
        intended = start + i / rate
        delay = intended - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, intended)))
    await asyncio.gather(*tasks)
    result.wall_seconds = loop.time() - start
    result.cpu_seconds = cpu_seconds() - cpu_before
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
