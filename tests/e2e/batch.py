"""A batch of renewals through the whole system, and the exact account of what it did.

Each customer has one service (imported, a long way from expiry) and renews it for a year by
bank transfer; one camt.053 statement pays every order. Done, the batch must show, for each
service: one order placed and paid, one payment requested and registered, one renewal to
exactly a year later, one confirmation and one completion e-mail, one ``sent`` record each.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from rinnovo.orders.domain.calendar import add_years
from rinnovo.testing.payment_providers import camt053
from tests.e2e.system import ACCEPTANCES, System, eventually

T = TypeVar("T")
log = logging.getLogger("tests.e2e.batch")


async def bounded(jobs: Iterable[Callable[[], Awaitable[T]]], limit: int = 8) -> list[T]:
    """Run the jobs at most ``limit`` at a time, as a crowd of customers would."""
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


@dataclass
class RenewalBatch:
    system: System
    size: int = 200
    expiry: date | None = None
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Customer id → the order placed."""

    def customers(self) -> list[str]:
        return [f"b{i:03d}" for i in range(self.size)]

    async def prepare(self, today: date) -> None:
        """Import the services and place every order; wait until payments knows them all."""
        self.expiry = today + timedelta(days=200)
        started = time.monotonic()
        await bounded(lambda c=c: self._import(c) for c in self.customers())
        log.info("%d services imported in %.1fs", self.size, time.monotonic() - started)
        started = time.monotonic()
        placed = await bounded(lambda c=c: self._order(c) for c in self.customers())
        self.orders = dict(zip(self.customers(), placed, strict=True))
        log.info("%d orders placed in %.1fs", self.size, time.monotonic() - started)

        await self.wait_for(self.requested, self.size)

    async def _import(self, customer: str) -> None:
        assert self.expiry is not None
        body = {
            "service_id": f"svc-{customer}",
            "customer_id": customer,
            "holder": {"name": "Studio", "email": f"{customer}@example.it", "locale": "it"},
            "username": f"{customer}@fe.example.it",
            "product_id": "fe-standard",
            "storage_gb": 1,
            "expiry_date": self.expiry.isoformat(),
        }
        async with self.system.admin("orders") as admin:
            answer = await admin.post("/v1/admin/services", json=body)
        assert answer.status_code == 201, answer.text

    async def _order(self, customer: str) -> dict[str, Any]:
        async with self.system.customer(customer) as me:
            cart = await me.post(
                "/v1/carts", json={"kind": "renewal", "service_id": f"svc-{customer}"}
            )
            assert cart.status_code == 201, cart.text
            cart_id = cart.json()["cart_id"]
            changed = await me.patch(
                f"/v1/carts/{cart_id}", json={"payment_method": "bank_transfer"}
            )
            assert changed.status_code == 200, changed.text
            placed = await me.post(
                f"/v1/carts/{cart_id}/checkout",
                json={"acceptances": ACCEPTANCES},
                headers={"Idempotency-Key": f"batch-{customer}"},
            )
            assert placed.status_code == 201, placed.text
            order: dict[str, Any] = placed.json()
        return order

    def statement(self, part: int = 0, parts: int = 1) -> bytes:
        """The bank's statement paying every order, as one file (or one of ``parts`` files,
        each paying its share of the orders)."""
        paid = list(self.orders.items())[part::parts]
        return camt053(
            "BATCH-STMT" if parts == 1 else f"BATCH-STMT-{part + 1}-OF-{parts}",
            [
                (f"BATCH-{c}", order["total_cents"], "CRDT", f"Rinnovo {order['number']}")
                for c, order in paid
            ],
        )

    async def import_statement(self, part: int = 0, parts: int = 1) -> dict[str, Any]:
        async with self.system.admin("payments") as admin:
            answer = await admin.post(
                "/v1/admin/statements",
                content=self.statement(part, parts),
                headers={"Content-Type": "application/xml"},
                timeout=600,  # one request decides every credit of the file
            )
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    # ---- progress, as an integrator sees it ----

    async def count(self, topic: str, event_type: str) -> int:
        """Distinct events of a type so far (a redelivered record is the same event)."""
        events = await self.system.events(topic)
        return len({e["event_id"] for e in events if e["type"] == event_type})

    async def requested(self) -> int:
        return await self.count("payments.payment.v1", "payments.payment.requested")

    async def registered(self) -> int:
        return await self.count("payments.payment.v1", "payments.payment.registered")

    async def renewed(self) -> int:
        return await self.count("orders.service.v1", "orders.service.renewed")

    def completion_mails(self) -> int:
        return len(
            {
                str(m["Message-ID"])
                for m in self.system.smtp.inbox.messages
                if str(m["Subject"]).strip().startswith("Rinnovo completato")
            }
        )

    async def mails_done(self) -> int:
        return self.completion_mails()

    async def wait_for(
        self, progress: Callable[[], Awaitable[int]], at_least: int, every: float = 1.0
    ) -> int:
        """Poll until ``progress`` reaches ``at_least``, every ``every`` seconds; returns what
        it was then."""
        seen = 0

        last_told = time.monotonic()

        async def reached() -> bool:
            nonlocal seen, last_told
            seen = await progress()
            if time.monotonic() - last_told > 10:
                log.info("waiting for %s: %d of %d", progress.__name__, seen, at_least)
                last_told = time.monotonic()
            return seen >= at_least

        await eventually(
            reached, timeout=600, what=f"{progress.__name__} to {at_least}", every=every
        )
        log.info("%s reached %d", progress.__name__, seen)
        return seen

    async def done(self) -> None:
        """Until every renewal is applied, every e-mail accepted by the SMTP server, and then
        nothing is left in flight: the account that follows reads every fact, late ones and
        doubled ones included."""

        async def complete() -> bool:
            return await self.renewed() >= self.size and self.completion_mails() >= self.size

        await eventually(complete, timeout=600, what="the whole batch", every=1)
        await self.system.settled()

    # ---- the exact account ----

    def owns(self, event: dict[str, Any]) -> bool:
        """Whether an event is about this batch's customers, services, orders or payments."""
        payload = event["payload"]
        return (
            event["aggregate_id"] in {o["order_id"] for o in self.orders.values()}
            or event["aggregate_id"] in {f"svc-{c}" for c in self.orders}
            or payload.get("order_id") in {o["order_id"] for o in self.orders.values()}
            or payload.get("customer_id") in self.orders
        )

    async def account(self, *, shared: bool = False) -> "Account":
        """What the batch did, as sets; fails on any fact that happened twice or not at all.

        Unless ``shared`` (other work runs on the same system, accounted for by the caller),
        every event and e-mail there is must be the batch's."""
        assert self.expiry is not None
        system = self.system
        facts: dict[str, Counter[tuple[str, str]]] = {}
        duplicates = 0
        for topic in ("orders.order.v1", "orders.service.v1", "payments.payment.v1"):
            events = await system.events(topic)
            if shared:
                events = [e for e in events if self.owns(e)]
            records = Counter(e["event_id"] for e in events)
            duplicates += sum(n - 1 for n in records.values())
            distinct = {e["event_id"]: e for e in events}.values()
            facts[topic] = Counter((e["type"], e["aggregate_id"]) for e in distinct)
        order_ids = {o["order_id"] for o in self.orders.values()}
        services = {f"svc-{c}" for c in self.orders}
        orders = facts["orders.order.v1"]
        assert orders == Counter(
            {(t, o): 1 for o in order_ids for t in ("orders.order.placed", "orders.order.paid")}
        )
        renewals = facts["orders.service.v1"]
        assert renewals == Counter(
            {
                (t, s): 1
                for s in services
                for t in ("orders.service.activated", "orders.service.renewed")
            }
        )
        payments = facts["payments.payment.v1"]
        kinds = Counter(t for t, _ in payments.elements())
        assert kinds == Counter(
            {"payments.payment.requested": self.size, "payments.payment.registered": self.size}
        )
        assert all(n == 1 for n in payments.values())
        new_expiry = add_years(self.expiry, 1)
        for event in await system.events("orders.service.v1"):
            if event["type"] == "orders.service.renewed":
                assert event["payload"]["service"]["expiry_date"] == new_expiry.isoformat()

        # E-mails: exactly the expected ones, each once (a resend would repeat its Message-ID).
        mails = Counter(
            (str(m["To"]), str(m["Subject"]).strip(), str(m["Message-ID"]))
            for m in system.smtp.inbox.messages
            if not shared or any(f"<{c}@example.it>" in str(m["To"]) for c in self.orders)
        )
        expected = {
            (f"Studio <{c}@example.it>", subject)
            for c, order in self.orders.items()
            for subject in (
                f"Ordine {order['number']} confermato: istruzioni per il pagamento",
                f"Rinnovo completato: {c}@fe.example.it è attivo fino al {day_text(new_expiry)}",
            )
        }
        assert {(to, subject) for to, subject, _ in mails} == expected
        by_message = Counter(message_id for _, _, message_id in mails)
        assert len(by_message) == len(expected)  # one Message-ID per e-mail meant
        resent = sum(mails.values()) - len(mails)
        sent_records = Counter(
            e["aggregate_id"]
            for e in {
                e["event_id"]: e for e in await system.events("notifier.notification.v1")
            }.values()
            if e["type"] == "notifier.notification.sent" and (not shared or self.owns(e))
        )
        assert len(sent_records) == len(expected)
        assert all(n == 1 for n in sent_records.values())
        return Account(redelivered_records=duplicates, resent_mails=resent)


@dataclass(frozen=True)
class Account:
    redelivered_records: int
    """Records published again with an event id already on the topic (at-least-once)."""
    resent_mails: int
    """E-mails the SMTP server accepted twice, with the same Message-ID."""
