"""Development mode only: demo customers, and their services brought in through orders'
operator API, so a newcomer sees every state a card can be in.

The services are imported with dates counted from today, as operators import existing
services (``POST /v1/admin/services``): expiring in 30 days, storage at 85 %, expired inside
the reactivation window, and one expired past it, which orders' scheduler deactivates at
once. Importing again finds them there (409) and changes nothing.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from rinnovo.portal.labels import N_
from rinnovo.portal.upstream import ApiError, Unavailable, Upstream
from rinnovo.runtime.auth import ADMIN, CUSTOMER, AuthSettings, issue_token
from rinnovo.runtime.clock import rome_date

log = structlog.get_logger(__name__)

GB = 1_000_000_000


@dataclass(frozen=True)
class DemoService:
    service_id: str
    product_id: str
    what: str
    expiry_in_days: int
    status: str = "active"
    storage_gb: int = 1
    used_bytes: int = 0
    extra_users: int = 0
    nso: bool = False
    automatic_renewal_method: str | None = None


@dataclass(frozen=True)
class DemoCustomer:
    customer_id: str
    name: str
    services: tuple[DemoService, ...]


DEMO_CUSTOMERS = (
    DemoCustomer(
        "demo-anna",
        "Anna Bianchi",
        (
            DemoService(
                "demo-anna-1",
                "fe-standard",
                N_("expiring in 30 days"),
                30,
                storage_gb=2,
                used_bytes=GB // 2,
            ),
            DemoService(
                "demo-anna-2",
                "fe-business",
                N_("storage at 85 percent, automatic renewal on"),
                200,
                storage_gb=10,
                used_bytes=85 * GB // 10,
                extra_users=2,
                nso=True,
                automatic_renewal_method="card",
            ),
        ),
    ),
    DemoCustomer(
        "demo-marco",
        "Marco Rossi",
        (
            DemoService(
                "demo-marco-1",
                "fe-standard",
                N_("expired 10 days ago: reactivate"),
                -10,
                status="expired",
                used_bytes=GB // 5,
            ),
            DemoService("demo-marco-2", "fe-standard", N_("deactivated"), -70, status="expired"),
            DemoService("demo-marco-3", "fe-promo", N_("promotional plan"), 150),
        ),
    ),
)


def import_body(customer: DemoCustomer, service: DemoService, now: datetime) -> dict[str, Any]:
    first = customer.name.split()[0].lower()
    body: dict[str, Any] = {
        "service_id": service.service_id,
        "customer_id": customer.customer_id,
        "holder": {"name": customer.name, "email": f"{first}@example.it", "locale": "it"},
        "username": f"{service.service_id}@fe.example.it",
        "product_id": service.product_id,
        "status": service.status,
        "expiry_date": (rome_date(now) + timedelta(days=service.expiry_in_days)).isoformat(),
        "storage_gb": service.storage_gb,
        "extra_users": service.extra_users,
        "nso": service.nso,
        "used_bytes": service.used_bytes,
    }
    if service.automatic_renewal_method:
        body["automatic_renewal"] = {
            "enabled": True,
            "term_years": 1,
            "payment_method": service.automatic_renewal_method,
        }
    return body


async def _catalog_known(orders: Upstream, token: str, wanted: set[str]) -> bool:
    if not await orders.ready():  # starting with the portal: not a warning
        return False
    try:
        products = await orders.call("GET", "/v1/catalog/products", token)
    except (Unavailable, ApiError):
        return False
    return wanted <= {p.get("product_id") for p in products}


async def seed(orders: Upstream, auth: AuthSettings, patience_seconds: int = 600) -> int:
    """Import the demo services once orders knows the catalog; how many were new."""
    admin = issue_token(auth, "portal-demo", {ADMIN})
    probe = issue_token(auth, "portal-demo", {CUSTOMER})
    wanted = {s.product_id for c in DEMO_CUSTOMERS for s in c.services}
    for _ in range(patience_seconds):  # orders and its catalog replica start with the portal
        if await _catalog_known(orders, probe, wanted):
            break
        await asyncio.sleep(1.0)
    else:
        log.warning("no demo data: orders did not know the catalog in time")
        return 0
    now = datetime.now(UTC)
    created = 0
    for customer in DEMO_CUSTOMERS:
        for service in customer.services:
            body = import_body(customer, service, now)
            try:
                await orders.call("POST", "/v1/admin/services", admin, json=body)
                created += 1
            except ApiError as error:
                if error.status != 409:
                    log.warning("demo service refused", service=service.service_id, error=error)
    log.info("demo data ready", created=created)
    return created
