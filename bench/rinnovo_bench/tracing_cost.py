"""What tracing costs the renewal pipeline: its max sustainable rate (the pipeline
benchmark's closed loop) with tracing off and with tracing on, in the same run.

Two copies of the pipeline's services run side by side on the same servers, each on
databases and topics of its own. The first runs as deployed without an OTLP endpoint:
tracing off, in which ``tracing_setup`` installs nothing at all (no SDK provider, no
middleware, no command listener: ``shared/runtime/tests/test_tracing.py``), so its rate is
the pipeline's own. The second exports every span (the default sampler) over OTLP/HTTP to a
sink in a process of its own, as a collector would be (``python -m rinnovo.testing.otlp``),
which counts the spans and discards them. After a round not measured, repetitions alternate
which copy goes first (off then on, on then off, ...), so a change in the shared machine's
load falls on both alike; the copy not measured meanwhile is idle. Each loop also accounts
the CPU spent per renewal by the copy's services, and by them with the servers the bench
started: unlike a rate, a cost per renewal does not move with the other work on the machine.
"""

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from rinnovo.devstack.services import SERVICES
from rinnovo_bench import cost, pipeline
from rinnovo_bench.common import Json, Options, progress, ratio, summary

EXPORT_DELAY = 5.0
"""OpenTelemetry's default ``OTEL_BSP_SCHEDULE_DELAY``: spans leave at most this late."""
TARGET = 0.9
"""Tracing on keeps at least this share of the max rate with tracing off."""


@contextlib.asynccontextmanager
async def span_sink() -> AsyncIterator[str]:
    """The sink's process; yields the endpoint the services export to."""
    sink = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rinnovo.testing.otlp",
        "--port",
        "0",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert sink.stdout is not None
        async with asyncio.timeout(60):
            line = (await sink.stdout.readline()).decode().strip()
        name, _, endpoint = line.partition("=")
        if name != "OTEL_EXPORTER_OTLP_ENDPOINT" or not endpoint:
            raise RuntimeError(f"the span sink did not start: {line!r}")
        yield endpoint
    finally:
        sink.terminate()
        await sink.wait()


async def settled_spans(client: httpx.AsyncClient, timeout: float = 60.0) -> int:
    """The spans the sink has received once no new one came for longer than the exporters'
    delay: what was made until now has arrived."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last, changed = -1, loop.time()
    while loop.time() < deadline:
        answer = await client.get("/counts")
        answer.raise_for_status()
        count = int(answer.json()["spans"])
        if count != last:
            last, changed = count, loop.time()
        elif loop.time() - changed > EXPORT_DELAY + 1:
            return count
        await asyncio.sleep(0.5)
    raise RuntimeError(f"spans still arriving after {timeout:.0f} s")


async def closed_loop(
    options: Options, copy: pipeline.Pipeline, first: int, per_rep: int, concurrency: int
) -> Json:
    """One closed loop's rate, and the CPU spent per renewal by the copy's services and by
    them with the servers (which the machine's load does not change as it changes a rate)."""
    services = {name: copy.processes.pid(name) for name in SERVICES}
    pids = services | options.servers
    before = await cost.snapshot(pids)
    rate = await pipeline.closed_loop(copy, first, per_rep, concurrency)
    spent = cost.account(before, await cost.snapshot(pids), per_rep)["cpu_ms_per_unit"]
    return {
        "rate": rate,
        "services": sum(spent[name] for name in services),
        "stack": sum(spent.values()),
    }


async def alternate(
    options: Options, copies: dict[str, pipeline.Pipeline], per_rep: int, concurrency: int
) -> dict[str, list[Json]]:
    """A closed loop on each copy per repetition, which goes first alternating, after a
    round not measured (the first loop after the copies idled is slower, whichever it is)."""
    loops: dict[str, list[Json]] = {name: [] for name in copies}
    for rep in range(-1, options.repetitions):
        first = pipeline.WARM_UP + (rep + 1) * per_rep
        order = list(copies) if rep % 2 == 0 else list(reversed(copies))
        for name in order:
            loop = await closed_loop(options, copies[name], first, per_rep, concurrency)
            progress(
                f"tracing {name}, closed loop of {concurrency}: {loop['rate']:.2f} renewals/s, "
                f"CPU per renewal {loop['services']:.1f} ms in the services, "
                f"{loop['stack']:.1f} ms with the servers" + (" (not measured)" if rep < 0 else "")
            )
            if rep >= 0:
                loops[name].append(loop)
    return loops


def figures(loops: dict[str, list[Json]], key: str, unit: str) -> Json:
    """Off, on and their ratio repetition by repetition, of one figure of the loops."""
    off = summary([loop[key] for loop in loops["off"]], unit)
    on = summary([loop[key] for loop in loops["on"]], unit)
    return {"off": off, "on": on, "on_vs_off": ratio(on, off)}


async def run(options: Options, log_dir: Path) -> Json:
    concurrency = options.pick(8, 16)
    per_rep = options.pick(16, 120)
    loops_per_copy = options.repetitions + 1
    async with contextlib.AsyncExitStack() as stack:
        endpoint = await stack.enter_async_context(span_sink())
        traced = {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}
        # One after the other: a copy's ports are chosen free when it starts.
        copies = {
            "off": await stack.enter_async_context(pipeline.running(options, log_dir / "off")),
            "on": await stack.enter_async_context(
                pipeline.running(options, log_dir / "on", traced)
            ),
        }
        sink = await stack.enter_async_context(httpx.AsyncClient(base_url=endpoint))
        for copy in copies.values():
            await copy.prepare(pipeline.WARM_UP + per_rep * loops_per_copy)
            await copy.watch()
            await pipeline.warm_up(copy)
        before = await settled_spans(sink)
        loops = await alternate(options, copies, per_rep, concurrency)
        spans = await settled_spans(sink) - before
        for name, copy in copies.items():
            if copy.failures:
                raise RuntimeError(f"{copy.failures} renewals failed, tracing {name}")
    if spans <= 0:
        raise RuntimeError("the traced copy exported no span: tracing was not on")
    rates = figures(loops, "rate", "renewals/s")
    return rates | {
        "cpu_ms_per_renewal": {
            "services": figures(loops, "services", "ms"),
            "with_servers": figures(loops, "stack", "ms"),
            "servers": sorted(options.servers),
        },
        "spans_per_renewal": spans / (per_rep * loops_per_copy),
        "concurrency": concurrency,
        "renewals": per_rep,
        "targets": {"on_vs_off": TARGET},
    }
