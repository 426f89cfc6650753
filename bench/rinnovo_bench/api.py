"""The customer-area API: a customer's card list, among many customers, over HTTP.

The orders service runs as a real process (``rinnovo run orders`` under uvicorn), next to
the catalog (its replica of products comes from the catalog's topic as in production). The
services collection holds one service for most customers and 20 for the probe customers the
requests ask for; documents are built as the scheduler benchmark builds them.

- max rate: closed loop, 32 callers back to back;
- latency at half the max rate: an open loop over a reportable window (``loadgen``), from
  as many generator processes as that rate needs, with the generator's own lateness.
"""

import asyncio
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import rome_date
from rinnovo_bench.common import Json, Options, drop_database, http_limits, unique
from rinnovo_bench.loadgen import HttpRequests, closed_loop, http_open_loop, window
from rinnovo_bench.processes import service_env, start
from rinnovo_bench.scheduler import LOAD_BATCH, Bench

PROBES = 20
SERVICES_PER_PROBE = 20
RATE_PER_GENERATOR = 150.0
"""Requests/s one generator process is given at most (httpx on one core of this machine)."""


async def load(options: Options, database: str, customers: int) -> float:
    """Write the services straight into orders' database before it starts."""
    bench = Bench(options, database)
    try:
        await bench.prepare()
        started = time.perf_counter()
        now = datetime.now(UTC)
        expiry = rome_date(now) + timedelta(days=200)
        docs: list[Json] = []
        for c in range(customers):
            for k in range(SERVICES_PER_PROBE if c < PROBES else 1):
                docs.append(bench.document(c * 100 + k, expiry, (), now, f"cust-{c:06d}"))
                if len(docs) >= LOAD_BATCH:
                    await bench.stores.services.collection.insert_many(docs, ordered=False)
                    docs = []
        if docs:
            await bench.stores.services.collection.insert_many(docs, ordered=False)
        return time.perf_counter() - started
    finally:
        await bench.runtime.mongo.close()


async def run(options: Options, log_dir: Path) -> Json:
    customers = options.pick(200, 1000)
    seconds = options.pick(2, 10)
    databases = {"orders": unique("bench_api_orders_"), "catalog": unique("bench_api_catalog_")}
    load_seconds = await load(options, databases["orders"], customers)
    env = service_env(options, unique("bench.api.") + ".", databases)
    processes = await asyncio.to_thread(start, options, log_dir, ("catalog", "orders"), env)
    tokens = [issue_token(AuthSettings(), f"cust-{c:06d}", {"customer"}) for c in range(PROBES)]
    requests = HttpRequests(
        processes.url("orders"),
        "/v1/services",
        tuple((("Authorization", f"Bearer {token}"),) for token in tokens),
        items=SERVICES_PER_PROBE,
    )
    try:
        limits = http_limits(64)
        async with httpx.AsyncClient(
            base_url=processes.url("orders"), limits=limits, timeout=30.0
        ) as client:

            async def cards(i: int) -> bool:
                answer = await client.get(
                    "/v1/services",
                    headers={"Authorization": f"Bearer {tokens[i % PROBES]}"},
                )
                ok = answer.status_code == 200 and len(answer.json()) == SERVICES_PER_PROBE
                return ok

            await wait_for_replica(cards)
            for i in range(20):
                await cards(i)  # warm up connections and caches
            maximum = await closed_loop(32, seconds, cards)
        half_rate = max(0.5, maximum["rate"] / 2)
        generators = math.ceil(half_rate / RATE_PER_GENERATOR)
        half = await http_open_loop(
            requests,
            half_rate,
            window(half_rate, options.quick, 5.0),
            processes=generators,
            timeout=30.0,
        )
    finally:
        await asyncio.to_thread(processes.stop_all)
        for database in databases.values():
            await drop_database(options.mongodb, database)
    return {
        "customers": customers,
        "probe_customers": PROBES,
        "services_per_probe": SERVICES_PER_PROBE,
        "services_total": customers - PROBES + PROBES * SERVICES_PER_PROBE,
        "load_seconds": load_seconds,
        "max_rate": maximum,
        "half_max_rate": half.to_json(),
        "targets": {"max_rate": 300, "half_max_p99_ms": 50},
    }


async def wait_for_replica(cards: Any) -> None:
    """Orders answers cards once its catalog replica has the products."""
    async with asyncio.timeout(120):
        while not await cards(0):
            await asyncio.sleep(0.5)
