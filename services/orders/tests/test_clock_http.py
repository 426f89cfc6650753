"""Time travel (demo and test deployments): how far the clock may be moved.

The app is not started: moving the clock touches neither Kafka nor MongoDB.
"""

from httpx import ASGITransport, AsyncClient

from rinnovo.orders.bootstrap import OrdersSettings, build
from rinnovo.runtime.auth import issue_token


def admin_client() -> AsyncClient:
    built = build(OrdersSettings(time_travel=True))
    token = issue_token(built.runtime.auth.settings, "ops", {"admin"})
    return AsyncClient(
        transport=ASGITransport(built.app),
        base_url="http://orders",
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_more_than_ten_years_at_once_is_refused() -> None:
    async with admin_client() as admin:
        # Once answered 500: the offset overflowed.
        refused = await admin.post("/v1/admin/clock/advance", json={"seconds": 2**62})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["seconds"]


async def test_the_clock_stops_short_of_the_year_10000() -> None:
    async with admin_client() as admin:
        moved = await admin.post("/v1/admin/clock/advance", json={"days": 3650})
        while moved.status_code == 200:
            moved = await admin.post("/v1/admin/clock/advance", json={"days": 3650})
        now = (await admin.get("/v1/admin/clock")).json()["now"]
    assert moved.status_code == 422, moved.text
    assert moved.headers["content-type"] == "application/problem+json"
    assert now.startswith("99")
