"""The portal's pages under a steady 50 requests/s: their server time at p99 (target 50 ms).

The five services run as processes (``rinnovo run NAME``) on the bench's servers; customers'
services are brought in through orders' operator API. Each request is a page a signed-in
customer opens (My services, My orders, a service with its timeline, Messages), in turn, for
customers in turn, at a fixed rate (open loop). The portal says each answer's server time in
its ``Server-Timing`` header (``app``: the whole request, its API calls included); that is
the figure held to the target, with the latency seen by the client beside it.
"""

import asyncio
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from rinnovo.devstack.services import ServiceProcesses
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import rome_date
from rinnovo_bench.common import Json, Options, drop_database, progress, summary, unique
from rinnovo_bench.loadgen import histogram, open_loop, percentiles_ms
from rinnovo_bench.processes import service_env

RATE = 50.0
SERVICES_PER_CUSTOMER = 4
PAGES = ("/services", "/orders", "/services/{service}", "/messages")
BACKEND = ("catalog", "orders", "payments", "notifier")
APP_TIME = re.compile(r"app;dur=([\d.]+)")


def start(options: Options, log_dir: Path, env: dict[str, str]) -> ServiceProcesses:
    processes = ServiceProcesses(env, log_dir, (*BACKEND, "portal"))
    for name in ("orders", "payments", "notifier"):
        processes.env[f"RINNOVO_PORTAL_{name.upper()}_URL"] = processes.url(name)
    processes.start_all()
    try:
        processes.wait_ready(timeout=180)
    except BaseException:
        processes.stop_all()
        raise
    return processes


async def load(orders: httpx.AsyncClient, auth: AuthSettings, customers: int) -> None:
    """Each customer's services, through orders' operator API, once it knows the catalog."""
    admin = {"Authorization": f"Bearer {issue_token(auth, 'bench', {'admin'})}"}
    probe = {"Authorization": f"Bearer {issue_token(auth, 'bench', {'customer'})}"}
    async with asyncio.timeout(120):
        while len((await orders.get("/v1/catalog/products", headers=probe)).json()) < 3:
            await asyncio.sleep(0.5)
    today = rome_date(datetime.now(UTC))
    for c in range(customers):
        for k in range(SERVICES_PER_CUSTOMER):
            body = {
                "service_id": f"portal-bench-{c}-{k}",
                "customer_id": f"portal-bench-{c}",
                "holder": {"name": "Studio Bench", "email": f"bench{c}@example.it"},
                "username": f"bench{c}-{k}@fe.example.it",
                "product_id": ("fe-standard", "fe-business", "fe-promo")[k % 3],
                "expiry_date": (today + timedelta(days=20 + 60 * k)).isoformat(),
                "storage_gb": 1 + k,
                "used_bytes": k * 400_000_000,
            }
            answer = await orders.post("/v1/admin/services", json=body, headers=admin)
            if answer.status_code != 201:
                raise RuntimeError(f"import refused: {answer.text}")


async def window(portal: httpx.AsyncClient, tokens: list[str], seconds: float) -> Json:
    server = histogram()
    customers = len(tokens)

    async def page(i: int) -> bool:
        c = i % customers
        path = PAGES[(i // customers) % len(PAGES)].format(service=f"portal-bench-{c}-0")
        answer = await portal.get(path, cookies={"rinnovo_session": tokens[c]})
        found = APP_TIME.search(answer.headers.get("server-timing", ""))
        if found:
            server.record_value(max(1, int(float(found.group(1)) * 1000)))
        return answer.status_code == 200 and found is not None

    result = await open_loop(RATE, seconds, page, timeout=10.0)
    return {"server_time_ms": percentiles_ms(server), "client": result.to_json()}


async def measure(options: Options, processes: ServiceProcesses, auth: AuthSettings) -> Json:
    customers = options.pick(10, 50)
    seconds = float(options.pick(6, 45))
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with (
        httpx.AsyncClient(base_url=processes.url("orders"), timeout=30) as orders,
        httpx.AsyncClient(base_url=processes.url("portal"), limits=limits, timeout=30) as portal,
    ):
        await load(orders, auth, customers)
        progress(f"{customers * SERVICES_PER_CUSTOMER} services of {customers} customers")
        tokens = [issue_token(auth, f"portal-bench-{c}", {"customer"}) for c in range(customers)]
        for i in range(customers * len(PAGES)):  # warm up: every page once, caches filled
            path = PAGES[i % len(PAGES)].format(service=f"portal-bench-{i % customers}-0")
            await portal.get(path, cookies={"rinnovo_session": tokens[i % customers]})
        windows = []
        for _ in range(options.repetitions):
            windows.append(await window(portal, tokens, seconds))
            progress(f"portal pages at {RATE:g}/s: server {windows[-1]['server_time_ms']}")
    p99s = [w["server_time_ms"]["p99"] for w in windows if w["server_time_ms"]["count"]]
    return {
        "rate": RATE,
        "seconds_per_window": seconds,
        "customers": customers,
        "pages": list(PAGES),
        "windows": windows,
        "server_time_p99_ms": summary(p99s, "ms") if p99s else None,
        "targets": {"server_time_p99_ms": 50},
    }


async def run(options: Options, log_dir: Path) -> Json:
    databases = {name: unique(f"bench_portal_{name}_") for name in BACKEND}
    auth = AuthSettings(secret=uuid.uuid4().hex * 2)
    env: dict[str, Any] = service_env(options, unique("bench.portal.") + ".", databases) | {
        "RINNOVO_AUTH_SECRET": auth.secret.get_secret_value(),
        "RINNOVO_PORTAL_LOG_LEVEL": "WARNING",
        "RINNOVO_NOTIFIER_CHANNELS": "email",
    }
    processes = await asyncio.to_thread(start, options, log_dir, env)
    try:
        return await measure(options, processes, auth)
    finally:
        await asyncio.to_thread(processes.stop_all)
        for database in databases.values():
            await drop_database(options.mongodb, database)
