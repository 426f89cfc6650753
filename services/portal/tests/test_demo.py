"""Development mode's demo data: brought in through orders' operator API, once."""

import json
from datetime import UTC, datetime, timedelta

import httpx
from fastapi.security import HTTPAuthorizationCredentials
from structlog.testing import capture_logs

from rinnovo.portal.demo import DEMO_CUSTOMERS, seed
from rinnovo.portal.testing import PRODUCT, FakeApis, problem
from rinnovo.portal.upstream import Upstream
from rinnovo.runtime.auth import Auth, AuthSettings
from rinnovo.runtime.clock import rome_date

AUTH = AuthSettings(secret="demo-tests-secret-0123456789abcdef")


def products(ids: set[str]) -> list[dict[str, object]]:
    return [PRODUCT | {"product_id": p} for p in sorted(ids)]


async def test_demo_services_wait_for_the_catalog_then_cover_every_state() -> None:
    apis = FakeApis()
    known: set[str] = set()
    apis.on("GET", "/v1/catalog/products", lambda _: httpx.Response(200, json=products(known)))
    imported: list[dict[str, object]] = []

    def add(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["service_id"] in {b["service_id"] for b in imported}:
            return problem(409, "already exists")
        imported.append(body)
        return httpx.Response(201, json={})

    apis.on("POST", "/v1/admin/services", add)
    apis.on("GET", "/health/ready", {"status": "ready"})
    orders = Upstream("orders", "http://orders", 5, httpx.MockTransport(apis.handle))
    # Not yet replicated: nothing is imported until the products are known.
    assert await seed(orders, AUTH, patience_seconds=1) == 0
    assert imported == []

    known |= {"fe-standard", "fe-business", "fe-promo"}
    assert await seed(orders, AUTH) == sum(len(c.services) for c in DEMO_CUSTOMERS)
    today = rome_date(datetime.now(UTC))
    by_id = {b["service_id"]: b for b in imported}
    assert by_id["demo-anna-1"]["expiry_date"] == str(today + timedelta(days=30))
    storage = by_id["demo-anna-2"]
    assert storage["used_bytes"] == 85 * storage["storage_gb"] * 10**9 // 100  # type: ignore[operator]
    assert by_id["demo-marco-1"]["status"] == "expired"
    assert by_id["demo-marco-1"]["expiry_date"] == str(today - timedelta(days=10))
    # Expired past the 60-day window of its product: orders deactivates it at once.
    assert by_id["demo-marco-2"]["expiry_date"] == str(today - timedelta(days=70))

    (first, *_) = apis.sent("POST", "/v1/admin/services")
    scheme, token = first.headers["authorization"].split(" ")
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token)
    assert (await Auth(AUTH).verify(credentials)).is_admin

    assert await seed(orders, AUTH) == 0  # a second start changes nothing


async def test_waiting_for_orders_to_start_is_not_a_warning() -> None:
    # It printed "upstream unreachable" every second while orders started with the portal.
    apis = FakeApis()
    apis.on("GET", "/health/ready", {"status": "ready"})
    apis.on("GET", "/v1/catalog/products", products({"fe-standard", "fe-business", "fe-promo"}))
    apis.on("POST", "/v1/admin/services", {}, status=201)
    down = iter([True, True])  # orders' first two answers: none, it is starting

    def starting(request: httpx.Request) -> httpx.Response:
        if next(down, False):
            raise httpx.ConnectError("connection refused", request=request)
        return apis.handle(request)

    orders = Upstream("orders", "http://orders", 5, httpx.MockTransport(starting))
    with capture_logs() as logs:
        created = await seed(orders, AUTH, patience_seconds=5)
    assert created == sum(len(c.services) for c in DEMO_CUSTOMERS)
    assert [e for e in logs if e["log_level"] in ("warning", "error")] == []
