"""Services that come due while the cluster is being disturbed: each imported already past
its expiry date, so the orders replicas' schedulers find its expiry due at once. Each must
be announced once (``orders.service.expired``), its overtaken reminders never, and its
holder told once by e-mail."""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from tests.e2e.batch import day_text
from tests.e2e.system import System, eventually

REACTIVATION_WINDOW_DAYS = 60
"""fe-standard's, in the seed catalog."""


@dataclass
class ExpiredServices:
    system: System
    today: date
    imported: list[str] = field(default_factory=list)
    """Customer ids, one service each."""

    @property
    def expiry(self) -> date:
        return self.today - timedelta(days=1)

    async def add(self, count: int) -> None:
        """Import ``count`` more, through whichever orders replica is ready."""
        for _ in range(count):
            customer = f"m{len(self.imported):03d}"
            await self._import(customer)
            self.imported.append(customer)

    async def _import(self, customer: str) -> None:
        body = {
            "service_id": f"svc-{customer}",
            "customer_id": customer,
            "holder": {"name": "Studio", "email": f"{customer}@example.it", "locale": "it"},
            "username": f"{customer}@fe.example.it",
            "product_id": "fe-standard",
            "storage_gb": 1,
            "expiry_date": self.expiry.isoformat(),
        }
        for _ in range(30):
            try:
                async with self.system.admin("orders") as admin:
                    answer = await admin.post("/v1/admin/services", json=body)
            except httpx.TransportError:  # the replica asked went away: ask another
                await eventually(self._orders_ready, timeout=180, what="an orders replica")
                continue
            # 409: an earlier attempt was stored though its answer was lost.
            assert answer.status_code in (201, 409), answer.text
            return
        raise AssertionError(f"could not import {customer}")

    async def _orders_ready(self) -> bool:
        processes = self.system.processes
        replicas = processes.replicas("orders")
        return any([await asyncio.to_thread(processes.ready, name) for name in replicas])

    def owns(self, event: dict[str, Any]) -> bool:
        return (
            event["aggregate_id"] in {f"svc-{c}" for c in self.imported}
            or event["payload"].get("customer_id") in self.imported
        )

    async def expired(self) -> int:
        events = await self.system.events("orders.service.v1")
        return len({e["event_id"] for e in events if e["type"] == "orders.service.expired"})

    def mails(self) -> int:
        addresses = {f"<{c}@example.it>" for c in self.imported}
        return sum(
            1 for m in self.system.smtp.inbox.messages if any(a in str(m["To"]) for a in addresses)
        )

    async def account(self) -> int:
        """Each service activated once and expired once, nothing else; one e-mail and one
        ``sent`` record per holder. Returns how many services."""
        system = self.system
        events = [e for e in await system.events("orders.service.v1") if self.owns(e)]
        distinct = {e["event_id"]: e for e in events}.values()
        facts = Counter((e["type"], e["aggregate_id"]) for e in distinct)
        assert facts == Counter(
            {
                (t, f"svc-{c}"): 1
                for c in self.imported
                for t in ("orders.service.activated", "orders.service.expired")
            }
        )
        deadline = day_text(self.expiry + timedelta(days=REACTIVATION_WINDOW_DAYS))
        mails = Counter(
            (str(m["To"]), str(m["Subject"]).strip())
            for m in system.smtp.inbox.messages
            if any(f"<{c}@example.it>" in str(m["To"]) for c in self.imported)
        )
        assert mails == Counter(
            {
                (
                    f"Studio <{c}@example.it>",
                    f"Il servizio {c}@fe.example.it è scaduto: riattivalo entro il {deadline}",
                ): 1
                for c in self.imported
            }
        )
        notifications = await system.events("notifier.notification.v1")
        sent = Counter(
            e["payload"]["customer_id"]
            for e in {e["event_id"]: e for e in notifications}.values()
            if e["type"] == "notifier.notification.sent" and self.owns(e)
        )
        assert sent == Counter(dict.fromkeys(self.imported, 1))
        return len(self.imported)
