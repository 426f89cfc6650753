"""What the world around the portal does in a journey: operators bring in services and bank
statements, the identity provider signs a customer in by leaving the token in a cookie."""

import time
import uuid
from datetime import date
from typing import Any

from playwright.async_api import BrowserContext, Page

from rinnovo.runtime.auth import issue_token
from rinnovo.testing.payment_providers import camt053
from tests.e2e.system import System


def new_customer(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}"


async def sign_in(context: BrowserContext, system: System, customer_id: str) -> str:
    """The identity provider's cookie for ``customer_id``; the portal's own address."""
    url = system.processes.url("portal")
    token = issue_token(system.auth, customer_id, {"customer"})
    cookie = {"name": "rinnovo_session", "value": token, "url": url}
    await context.add_cookies([cookie | {"httpOnly": True, "secure": True, "sameSite": "Lax"}])
    return url


async def import_service(
    system: System, customer_id: str, expiry: date, **fields: Any
) -> dict[str, Any]:
    body = {
        "service_id": f"svc-{customer_id}",
        "customer_id": customer_id,
        "holder": {"name": "Studio Verdi", "email": f"{customer_id}@example.it", "locale": "it"},
        "username": f"{customer_id}@fe.example.it",
        "product_id": "fe-standard",
        "storage_gb": 1,
        "expiry_date": expiry.isoformat(),
        **fields,
    }
    async with system.admin("orders") as admin:
        answer = await admin.post("/v1/admin/services", json=body)
    assert answer.status_code == 201, answer.text
    card: dict[str, Any] = answer.json()
    return card


async def bank_pays(system: System, customer_id: str, order_number: str) -> None:
    """The bank's statement with the customer's payment arrives and is imported."""
    async with system.customer(customer_id) as me:
        orders = (await me.get("/v1/orders")).json()
    (order,) = [o for o in orders if o["number"] == order_number]
    statement = camt053(
        f"STMT-{uuid.uuid4().hex[:10]}",
        [(f"REF-{uuid.uuid4().hex[:10]}", order["total_cents"], "CRDT", order_number)],
    )
    async with system.admin("payments") as admin:
        answer = await admin.post(
            "/v1/admin/statements",
            content=statement,
            headers={"Content-Type": "application/xml"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["registered"] == 1, answer.text


async def reload_until(page: Page, text: str, timeout: float = 90.0) -> None:
    """Reload the page, as a customer would, until it shows ``text``."""
    deadline = time.monotonic() + timeout
    while text not in await page.inner_text("main"):
        assert time.monotonic() < deadline, f"{text!r} not shown in {timeout:.0f}s"
        await page.wait_for_timeout(1000)
        await page.reload()
