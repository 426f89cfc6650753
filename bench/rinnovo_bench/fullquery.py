"""``python -m rinnovo_bench.fullquery --before BINARY [--totals N ...]``: the scheduler's
sweep with nothing due (its range query ``next_due_at <= now``, sorted, with its batch as
limit) on the same stored services, served by another FerretDB build (``--before``, e.g. one
built without patch 05) and by this checkout's.

Services are loaded as the scheduler benchmark loads them, by this checkout's build; at each
total the server is stopped and the same data directory is served by the other build, then
by this one again, and the sweep is timed on each (repeated unless it scans).
"""

import argparse
import asyncio
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from rinnovo.devstack.ferretdb import FerretDBServer
from rinnovo_bench.common import RESULTS, Json, Options, machine, progress, summary
from rinnovo_bench.scheduler import Bench


class Build(FerretDBServer):
    """A FerretDB binary given by path, on a data directory."""

    def __init__(self, binary: Path, data_dir: Path, port: int) -> None:
        super().__init__(data_dir, port=port)
        self.binary = binary

    def install(self) -> None:
        pass

    def _prepare(self) -> list[str]:
        return [str(self.binary), *super()._prepare()[1:]]


DATABASE = "fullquery"


def bench_on(url: str) -> Bench:
    return Bench(Options(quick=False, repetitions=3, kafka="unused:9092", mongodb=url), DATABASE)


async def timed(url: str, times: int) -> Json:
    bench = bench_on(url)
    try:
        await bench.prepare()
        return summary(await bench.empty_sweep_ms(times), "ms")
    finally:
        await bench.runtime.mongo.close()


async def compare(before: Path, totals: list[int], times: int, data_dir: Path) -> list[Json]:
    current = FerretDBServer(data_dir)
    await asyncio.to_thread(current.start)
    await asyncio.to_thread(current.wait_ready, 60)
    assert current.port is not None
    other = Build(before, data_dir, current.port)
    points: list[Json] = []
    loaded = 0
    try:
        for total in totals:
            bench = bench_on(current.url)
            bench.loaded = loaded
            await bench.prepare()
            seconds = await bench.load(total)
            loaded = bench.loaded
            await bench.runtime.mongo.close()
            progress(f"loaded {total:,} services in {seconds:.0f} s")
            point: Json = {"total": total, "load_seconds": seconds}
            await asyncio.to_thread(current.stop)
            for name, server in (("before", other), ("after", current)):
                await asyncio.to_thread(server.start)
                await asyncio.to_thread(server.wait_ready, 300)
                point[name] = await timed(server.url, times)
                progress(f"{total:,} services, {name}: {point[name]['runs']} ms")
                if server is other:
                    await asyncio.to_thread(other.stop)
            points.append(point)
    finally:
        await asyncio.to_thread(current.stop)
    return points


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rinnovo_bench.fullquery", description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="the other FerretDB binary")
    parser.add_argument("--totals", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = datetime.now(UTC)
    host = machine()
    with tempfile.TemporaryDirectory(prefix="rinnovo-fullquery-") as tmp:
        points = asyncio.run(compare(args.before, args.totals, args.repetitions, Path(tmp)))
    host["loadavg_at_end"] = os.getloadavg()
    document = {
        "started_at": started.isoformat(),
        "before_binary": str(args.before),
        "machine": host,
        "points": points,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{started:%Y%m%dT%H%M%SZ}-fullquery.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    for point in points:
        before, after = point["before"]["median"], point["after"]["median"]
        print(f"{point['total']:>9,} services: before {before:,.1f} ms, after {after:,.1f} ms")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
