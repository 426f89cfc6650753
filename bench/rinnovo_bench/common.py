"""What every benchmark shares: options, repetitions, summaries, the servers."""

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

Json = dict[str, Any]
RESULTS = Path(__file__).resolve().parent.parent / "results"
PATCHES = Path(__file__).resolve().parents[2] / "deploy" / "local" / "ferretdb" / "patches"


@dataclass(frozen=True)
class Options:
    quick: bool
    repetitions: int
    kafka: str
    mongodb: str
    servers: dict[str, int] = field(default_factory=dict)
    """Process ids of the servers the bench started (``kafka``, ``ferretdb``), for their CPU."""

    def pick(self, quick: int, full: int) -> int:
        return quick if self.quick else full


def machine() -> Json:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = subprocess.run(["free", "-g"], capture_output=True, text=True, check=False).stdout
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "free_g": memory.strip(),
        "loadavg_at_start": os.getloadavg(),
        "ferretdb_patches": sorted(p.name for p in PATCHES.glob("*.patch")),
        "python": platform.python_version(),
    }


def http_limits(connections: int) -> Any:
    """Pool limits of a bench HTTP client. Idle connections are dropped well before uvicorn's
    keep-alive timeout (5 s) closes them, so a request never goes out on a connection the
    server is closing at that moment (a ``ReadError``)."""
    import httpx

    return httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=2.0
    )


def summary(values: Sequence[float], unit: str) -> Json:
    """Median of the repetitions, with their min and max (all kept)."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": list(values),
        "unit": unit,
    }


def ratio(numerator: Json, denominator: Json) -> Json:
    """A ratio of two summaries, repetition by repetition (both measured in the same run)."""
    runs = [n / d for n, d in zip(numerator["runs"], denominator["runs"], strict=False) if d > 0]
    return summary(runs, "ratio")


def progress(message: str) -> None:
    """A line on stderr, so a long run shows where it is."""
    print(f"   {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


async def repeat(times: int, once: Callable[[int], Awaitable[float]]) -> list[float]:
    return [await once(i) for i in range(times)]


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def create_topics(bootstrap: str, names: Sequence[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name=n, num_partitions=partitions, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.started


async def until(check: Callable[[], bool], timeout: float, poll: float = 0.005) -> None:
    """Wait for ``check`` to hold (an in-process counter); fail after ``timeout``."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(poll)


async def drop_database(url: str, name: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        await client.drop_database(name)
    finally:
        await client.close()
