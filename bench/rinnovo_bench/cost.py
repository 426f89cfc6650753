"""What a unit of work costs each process: CPU time from ``/proc/<pid>/stat`` and the round
trips the services count on their ``/metrics`` (``rinnovo.runtime.io_metrics``).

A ``Snapshot`` is taken before and after some work; ``account`` divides the differences by
the units done (renewals), ``idle_share`` by the wall time (an idle stack's CPU).
"""

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from rinnovo.runtime.io_metrics import KAFKA_REQUESTS, MONGO_COMMANDS
from rinnovo_bench.common import Json

TICKS = os.sysconf("SC_CLK_TCK")
COUNTED = {MONGO_COMMANDS: "command", KAFKA_REQUESTS: "api"}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass
class Snapshot:
    at: float
    cpu: dict[str, float]
    io: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per service: ``mongo:<command>`` and ``kafka:<api>`` counts."""


async def io_counts(client: httpx.AsyncClient, url: str) -> dict[str, float]:
    """The round-trip counters a service exports, by ``mongo:<command>``/``kafka:<api>``."""
    answer = await client.get(f"{url}/metrics")
    answer.raise_for_status()
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(answer.text):
        label = COUNTED.get(family.name)
        if label is None:
            continue
        kind = "mongo" if family.name == MONGO_COMMANDS else "kafka"
        for sample in family.samples:
            if sample.name.endswith("_total"):
                counts[f"{kind}:{sample.labels[label]}"] = sample.value
    return counts


async def snapshot(pids: Mapping[str, int], services: Mapping[str, str] | None = None) -> Snapshot:
    """CPU of each named process; round-trip counts of each service (name → base URL)."""
    taken = Snapshot(time.monotonic(), {name: cpu_seconds(pid) for name, pid in pids.items()})
    if services:
        async with httpx.AsyncClient(timeout=10.0) as client:
            for name, url in services.items():
                taken.io[name] = await io_counts(client, url)
    return taken


def account(before: Snapshot, after: Snapshot, units: int) -> Json:
    """Per unit: CPU milliseconds of each process, and each service's round trips."""
    cpu = {name: (after.cpu[name] - before.cpu[name]) * 1000 / units for name in after.cpu}
    io: Json = {}
    for service, counts in after.io.items():
        earlier = before.io.get(service, {})
        per_unit = {
            key: (value - earlier.get(key, 0.0)) / units
            for key, value in sorted(counts.items())
            if value > earlier.get(key, 0.0)
        }
        io[service] = {
            "mongo_commands": sum(v for k, v in per_unit.items() if k.startswith("mongo:")),
            "kafka_requests": sum(v for k, v in per_unit.items() if k.startswith("kafka:")),
            "by_kind": per_unit,
        }
    wall = after.at - before.at
    return {
        "units": units,
        "seconds": wall,
        "cpu_ms_per_unit": cpu,
        "cpu_ms_per_unit_total": sum(cpu.values()),
        "busy_cores": sum(after.cpu[n] - before.cpu[n] for n in after.cpu) / wall,
        "round_trips_per_unit": io,
    }


def idle_share(before: Snapshot, after: Snapshot) -> Json:
    """Each process's CPU as a percentage of one core over the interval, and their sum."""
    wall = after.at - before.at
    share = {name: (after.cpu[name] - before.cpu[name]) * 100 / wall for name in after.cpu}
    return {"seconds": wall, "percent_of_one_core": share, "total_percent": sum(share.values())}
