"""``python -m rinnovo_bench [--quick] [--only NAME ...]``: run the benchmarks, print a table,
write ``bench/results/<timestamp>.json``, ``latest.json`` and ``latest.png`` (``-quick`` in
the names of a quick run's files, which git ignores)."""

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from rinnovo.devstack.stack import LocalStack
from rinnovo_bench import baselines, hop, report
from rinnovo_bench.common import RESULTS, Json, Options, machine

BENCHES = ("baselines", "hop", "scheduler", "api", "pipeline", "tracing", "portal")


async def run_one(name: str, options: Options, results: Json, log_dir: Path) -> Json:
    # The hop and the baselines share a collection size, so their ratios compare like with
    # like (FerretDB's cost per guarded write grows with the collection).
    documents = options.pick(100, 200)
    if name == "baselines":
        return await baselines.run(options, documents)
    if name == "hop":
        if "baselines" not in results:
            results["baselines"] = await baselines.run(options, documents)
        return await hop.run(options, documents, results["baselines"])
    # Imported when run: they need the `bench` dependency group (HdrHistogram).
    if name == "scheduler":
        from rinnovo_bench import scheduler

        return await scheduler.run(options)
    if name == "api":
        from rinnovo_bench import api

        return await api.run(options, log_dir / "api")
    if name == "pipeline":
        from rinnovo_bench import pipeline

        return await pipeline.run(options, log_dir / "pipeline")
    if name == "tracing":
        from rinnovo_bench import tracing_cost

        return await tracing_cost.run(options, log_dir / "tracing")
    from rinnovo_bench import portal

    return await portal.run(options, log_dir / "portal")


async def run_all(options: Options, only: list[str], log_dir: Path) -> Json:
    """Each benchmark in turn; one that fails is recorded as such and the others still run."""
    results: Json = {}
    timings: Json = {}
    errors: Json = {}
    for name in only:
        started = time.perf_counter()
        print(f"-- {name}", file=sys.stderr, flush=True)
        try:
            results[name] = await run_one(name, options, results, log_dir)
        except Exception as exc:
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
        timings[name] = time.perf_counter() - started
    results["seconds"] = timings
    if errors:
        results["errors"] = errors
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rinnovo_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--only", nargs="+", choices=BENCHES, default=list(BENCHES))
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    if args.repetitions < 3:
        parser.error("figures are medians of at least 3 repetitions")

    started = datetime.now(UTC)
    host = machine()  # the load average before the run, not after
    with (
        tempfile.TemporaryDirectory(prefix="rinnovo-bench-") as tmp,
        LocalStack(Path(tmp) / "stack") as stack,
    ):
        servers = {
            name: server.pid
            for name, server in (("kafka", stack.kafka), ("ferretdb", stack.ferretdb))
            if server is not None and server.pid is not None
        }
        options = Options(
            quick=args.quick,
            repetitions=args.repetitions,
            kafka=stack.kafka_bootstrap_servers,
            mongodb=stack.mongodb_url,
            servers=servers,
        )
        results = asyncio.run(run_all(options, args.only, Path(tmp) / "logs"))
    host["loadavg_at_end"] = os.getloadavg()
    host["servers_started"] = sorted(servers)  # else MONGODB_URL/KAFKA_BOOTSTRAP_SERVERS
    document: Json = {
        "started_at": started.isoformat(),
        "mode": "quick" if args.quick else "full",
        "repetitions": args.repetitions,
        "machine": host,
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    # A quick run never replaces the figures of the last full run, nor does a failed one.
    failed = "errors" in results
    suffix = "-quick" if args.quick else ""
    stamp = started.strftime("%Y%m%dT%H%M%SZ") + suffix + ("-failed" if failed else "")
    paths = [args.out / f"{stamp}.json"] + ([] if failed else [args.out / f"latest{suffix}.json"])
    for path in paths:
        path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(report.table(document))
    if not args.no_plot and not failed:
        report.plot(document, args.out / f"latest{suffix}.png")
    print(f"results: {paths[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
