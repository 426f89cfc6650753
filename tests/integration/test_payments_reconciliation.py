"""Bank statements reconciled on the real servers: catalog, orders and payments running,
orders placed through the customer API (or, for a large statement, published as orders
publishes them), statement files made here and parsed for real."""

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from httpx import ASGITransport, AsyncClient

from rinnovo.contracts.orders import (
    Components,
    Holder,
    OrderLine,
    OrderPaymentRefused,
    OrderPaymentRefusedPayload,
    OrderPlaced,
    OrderPlacedPayload,
)
from rinnovo.payments.bootstrap import PaymentsSettings
from rinnovo.payments.bootstrap import build as build_payments
from rinnovo.payments.testing import camt053, euro
from rinnovo.payments.testing_statements import Ntry, Report, Tx, camt
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.clock import ShiftedClock
from rinnovo.runtime.events import new_event
from rinnovo.runtime.plugins import BuiltService

pytestmark = pytest.mark.integration

Reader = Callable[..., Awaitable[list[Any]]]
Wait = Callable[..., Awaitable[None]]
ACCEPT = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}
IBAN = "IT60X0542811101000000123456"


def headers(subject: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(AuthSettings(), subject, set(roles))}"}


@pytest.fixture
async def payments(stack: Any, database_name: Callable[[str], str]) -> AsyncIterator[BuiltService]:
    built = build_payments(
        PaymentsSettings(
            infra=stack.infra,
            database=database_name("payments"),
            outbox_poll_seconds=0.05,
            scheduler_interval_seconds=0.2,
            methods=["bank_transfer", "postal_slip"],
        ),
        clock=stack.clock,
    )
    async with built.runtime.running():
        yield built


def ops(payments: BuiltService) -> AsyncClient:
    return AsyncClient(
        transport=ASGITransport(payments.app),
        base_url="http://payments",
        headers=headers("ops", "admin"),
    )


async def place_order(stack: Any, customer: str, method: str = "bank_transfer") -> dict[str, Any]:
    await stack.import_service(customer)
    async with stack.customer(customer) as me:
        cart = await me.post("/v1/carts", json={"kind": "renewal", "service_id": f"svc-{customer}"})
        assert cart.status_code == 201, cart.text
        cart_id = cart.json()["cart_id"]
        changed = await me.patch(f"/v1/carts/{cart_id}", json={"payment_method": method})
        assert changed.status_code == 200, changed.text
        placed = await me.post(f"/v1/carts/{cart_id}/checkout", json={"acceptances": ACCEPT})
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
    return order


async def payment_of(client: AsyncClient, order: dict[str, Any], wait_until: Wait) -> Any:
    async def requested() -> bool:
        got = await client.get("/v1/admin/payments", params={"order_number": order["number"]})
        return got.status_code == 200

    await wait_until(requested)
    got = await client.get("/v1/admin/payments", params={"order_number": order["number"]})
    return got.json()


async def order_status(stack: Any, customer: str, order: dict[str, Any]) -> str:
    async with stack.customer(customer) as me:
        status: str = (await me.get(f"/v1/orders/{order['order_id']}")).json()["status"]
    return status


async def payment_events(stack: Any, reader: Reader, at_least: int) -> list[dict[str, Any]]:
    records = await reader(
        stack.infra.kafka_bootstrap_servers,
        stack.topic("payments.payment.v1"),
        at_least=at_least,
    )
    return [json.loads(r.value) for r in records]


async def test_a_statement_registers_matches_and_reviews_the_rest_once(
    stack: Any, payments: BuiltService, topic_reader: Reader, wait_until: Wait, mongo: Any
) -> None:
    exact, partial, over, twice = [await place_order(stack, c) for c in ("r1", "r2", "r3", "r4")]
    async with ops(payments) as admin:
        shown = await payment_of(admin, exact, wait_until)
        for order in (partial, over, twice):
            await payment_of(admin, order, wait_until)
        assert shown["instructions"]["iban"] == IBAN
        assert shown["instructions"]["reference"] == exact["number"]
        assert shown["instructions"]["amount_cents"] == exact["total_cents"]
        assert shown["usual_registration_days"] == 2

        statement = camt053(
            "STMT-0302",
            [
                ("B-001", exact["total_cents"], "CRDT", f"Rinnovo ordine {exact['number']}"),
                ("B-002", partial["total_cents"] - 100, "CRDT", f"saldo {partial['number']}"),
                ("B-003", over["total_cents"] + 500, "CRDT", over["number"].replace("-", " ")),
                ("B-004", twice["total_cents"], "CRDT", f"ordine {twice['number']}"),
                ("B-005", twice["total_cents"], "CRDT", f"ordine {twice['number']} bis"),
                ("B-006", 5000, "CRDT", "Bonifico fattura 77"),
                ("B-007", 1250, "DBIT", "commissioni"),
            ],
        )
        xml = {"Content-Type": "application/xml"}

        # A malformed file: 422 naming the element, and nothing of it is imported.
        broken = statement.replace(b'<Amt Ccy="EUR">50.00</Amt>', b'<Amt Ccy="EUR">50.0.0</Amt>')
        refused = await admin.post("/v1/admin/statements", content=broken, headers=xml)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "Stmt[1]/Ntry[6]/Amt"
        db = mongo[payments.runtime.db.name]
        assert await db["bank_transactions"].count_documents({}) == 0
        assert await db["reviews"].count_documents({}) == 0

        imported = await admin.post("/v1/admin/statements", content=statement, headers=xml)
        assert imported.status_code == 200, imported.text
        answer = imported.json()
        entries = answer.pop("entries")
        assert answer == {
            "statement_id": "STMT-0302",
            "format": "camt.053",
            "first_import": True,
            "credits": 6,
            "registered": 3,
            "reviews_opened": 4,
            "already_imported": 0,
            "ignored": 1,
        }
        assert [
            (e["reference"], e["outcome"], e["reason"], e["order_number"]) for e in entries
        ] == [
            ("B-001", "registered", None, exact["number"]),
            ("B-002", "review", "underpayment", partial["number"]),
            ("B-003", "registered", "overpayment", over["number"]),
            ("B-004", "registered", None, twice["number"]),
            ("B-005", "review", "duplicate", twice["number"]),
            ("B-006", "review", "unknown_reference", None),
            ("B-007", "ignored", "debit", None),
        ]
        again = await admin.post("/v1/admin/statements", content=statement, headers=xml)
        assert again.json()["first_import"] is False
        assert again.json()["already_imported"] == 6
        assert again.json()["registered"] == again.json()["reviews_opened"] == 0
        assert {e["outcome"] for e in again.json()["entries"]} == {"already_imported", "ignored"}

        reviews = (await admin.get("/v1/admin/reviews")).json()
        assert sorted((r["reason"], r["order_number"]) for r in reviews) == sorted(
            [
                ("underpayment", partial["number"]),
                ("overpayment", over["number"]),
                ("duplicate", twice["number"]),
                ("unknown_reference", None),
            ]
        )
        by_reason = {r["reason"]: r for r in reviews}
        assert by_reason["overpayment"]["refundable_cents"] == 500
        assert by_reason["unknown_reference"]["remittance"] == "Bonifico fattura 77"

        async def orders_paid() -> bool:
            statuses = [await order_status(stack, c, o) for c, o in (("r1", exact), ("r3", over))]
            return statuses == ["paid", "paid"]

        await wait_until(orders_paid)
        assert await order_status(stack, "r2", partial) == "awaiting_payment"

        # The operator accepts the under-payment, refunds the excess, dismisses the unknown.
        actions = [
            (by_reason["underpayment"], {"action": "register", "note": "agreed discount"}),
            (by_reason["overpayment"], {"action": "refund"}),
            (by_reason["unknown_reference"], {"action": "dismiss", "note": "not ours"}),
        ]
        for review, body in actions:
            done = await admin.post(f"/v1/admin/reviews/{review['review_id']}/resolve", json=body)
            assert done.status_code == 200, done.text
            assert done.json()["resolution"]["by"] == "ops"
        not_twice = await admin.post(
            f"/v1/admin/reviews/{by_reason['overpayment']['review_id']}/resolve",
            json={"action": "dismiss"},
        )
        assert not_twice.status_code == 409
        wrong = await admin.post(
            f"/v1/admin/reviews/{by_reason['duplicate']['review_id']}/resolve",
            json={"action": "register"},
        )
        assert wrong.status_code == 422
        assert [r["reason"] for r in (await admin.get("/v1/admin/reviews")).json()] == ["duplicate"]

    async def partial_paid() -> bool:
        return await order_status(stack, "r2", partial) == "paid"

    await wait_until(partial_paid)
    events = await payment_events(stack, topic_reader, at_least=4 + 4 + 1)
    registered = [e["payload"]["order_number"] for e in events if e["type"].endswith("registered")]
    assert sorted(registered) == sorted(
        [exact["number"], over["number"], twice["number"], partial["number"]]
    )
    refunds = [e["payload"] for e in events if e["type"] == "payments.payment.refunded"]
    assert [(r["order_id"], r["amount_cents"]) for r in refunds] == [(over["order_id"], 500)]
    assert db.name  # the same database was used throughout


async def test_money_for_a_cancelled_order_goes_to_review_never_to_a_renewal(
    stack: Any, payments: BuiltService, topic_reader: Reader, wait_until: Wait
) -> None:
    order = await place_order(stack, "x1", method="postal_slip")
    async with ops(payments) as admin:
        shown = await payment_of(admin, order, wait_until)
        assert shown["instructions"]["postal_account"]
        async with stack.customer("x1") as me:
            cancelled = await me.post(
                f"/v1/orders/{order['order_id']}/cancel", json={"confirm": True}
            )
            assert cancelled.status_code == 200, cancelled.text

        async def voided() -> bool:
            got = await admin.get("/v1/admin/payments", params={"order_number": order["number"]})
            return bool(got.json()["status"] == "voided")

        await wait_until(voided)
        csv = (
            "transaction_id,date,amount,remittance,payer\n"
            f"P-1,2026-03-02,{euro(order['total_cents'])},{order['number']},Studio Rossi\n"
        )
        imported = await admin.post(
            "/v1/admin/statements", content=csv.encode(), headers={"Content-Type": "text/csv"}
        )
        assert imported.status_code == 200, imported.text
        assert imported.json()["registered"] == 0
        reviews = (await admin.get("/v1/admin/reviews")).json()
        assert [(r["reason"], r["order_number"]) for r in reviews] == [
            ("cancelled_order", order["number"])
        ]

        # A registration that orders could not apply (cancelled meanwhile) also comes back.
        other = await place_order(stack, "x2")
        payment = await payment_of(admin, other, wait_until)
        refused = new_event(
            OrderPaymentRefused,
            payload=OrderPaymentRefusedPayload(
                order_id=other["order_id"],
                number=other["number"],
                service_id="svc-x2",
                payment_id=payment["payment_id"],
                amount_cents=other["total_cents"],
                reason="order_cancelled",
            ),
            producer="orders",
            aggregate_id=other["order_id"],
            aggregate_version=3,
            occurred_at=datetime.now(UTC),
        )
        await stack.producer.send_and_wait(
            stack.topic("orders.order.v1"),
            refused.model_dump_json().encode(),
            key=other["order_id"].encode(),
        )

        async def refused_reviewed() -> bool:
            found = (await admin.get("/v1/admin/reviews")).json()
            return any(r["reason"] == "payment_refused" for r in found)

        await wait_until(refused_reviewed)
        item = next(
            r
            for r in (await admin.get("/v1/admin/reviews")).json()
            if r["reason"] == "payment_refused"
        )
        done = await admin.post(
            f"/v1/admin/reviews/{item['review_id']}/resolve", json={"action": "refund"}
        )
        assert done.status_code == 200, done.text

    assert await order_status(stack, "x1", order) == "cancelled"
    service_events = await stack.events("orders.service.v1", topic_reader, at_least=2)
    assert "orders.service.renewed" not in [e["type"] for e in service_events]
    types = [e["type"] for e in await payment_events(stack, topic_reader, at_least=4)]
    assert "payments.payment.registered" not in types
    assert types.count("payments.payment.voided") == 1
    assert types.count("payments.payment.refunded") == 1


@pytest.fixture
async def payments_alone(
    infra: Any, database_name: Callable[[str], str]
) -> AsyncIterator[BuiltService]:
    """The payments service by itself: what it consumes is published by the test."""
    built = build_payments(
        PaymentsSettings(
            infra=infra, database=database_name("payments"), methods=["bank_transfer"]
        ),
        clock=ShiftedClock(),
    )
    async with built.runtime.running():
        yield built


def order_placed(n: int, total_cents: int) -> OrderPlaced:
    """An order as orders publishes it when a customer checks out."""
    order_id = f"ord-big-{n:03d}"
    return new_event(
        OrderPlaced,
        payload=OrderPlacedPayload(
            order_id=order_id,
            number=f"RN-2026-{n:06d}",
            kind="renewal",
            service_id=f"svc-big-{n:03d}",
            username=f"big{n:03d}@example.it",
            product_id="fe-standard",
            product_name="Fatturazione Elettronica Standard",
            holder=Holder(customer_id=f"big{n:03d}", name="Studio Rossi", email="r@example.it"),
            placed_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
            payment_due=date(2026, 3, 31),
            payment_method="bank_transfer",
            term_years=1,
            components=Components(storage_gb=1, extra_users=0, nso=False),
            lines=(
                OrderLine(
                    item="base",
                    description="Servizio base",
                    quantity=1,
                    unit_yearly_cents=total_cents,
                    years=1,
                    amount_cents=total_cents,
                ),
            ),
            discount_cents=0,
            net_cents=total_cents,
            vat_rate_basis_points=0,
            vat_cents=0,
            total_cents=total_cents,
            catalog_product_version=1,
            price_version=1,
        ),
        producer="orders",
        aggregate_id=order_id,
        aggregate_version=1,
        occurred_at=datetime.now(UTC),
    )


async def test_a_250_entry_statement_with_one_foreign_credit_imports_the_rest(
    infra: Any, payments_alone: BuiltService, wait_until: Wait, mongo: Any
) -> None:
    """A day's statement of 250 entries: 240 transfers paying orders, 9 debits and one credit
    in Swiss francs. The francs open one review item; everything else is imported."""
    placed = [order_placed(n, 6100 + n) for n in range(1, 241)]
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in placed:
            await producer.send(
                infra.kafka_topic_prefix + "orders.order.v1",
                event.model_dump_json().encode(),
                key=event.aggregate_id.encode(),
            )
        await producer.flush()
    finally:
        await producer.stop()
    orders = [e.payload for e in placed]
    entries = [
        Ntry(euro(o.total_cents), ref=f"D-{o.number}", txs=(Tx(text=f"Rinnovo {o.number}"),))
        for o in orders
    ]
    francs = Ntry("96.00", currency="CHF", ref="D-CHF", info=orders[0].number)
    entries.insert(100, francs)
    for k in range(9):
        entries.insert(25 * (k + 1), Ntry("12.50", indicator="DBIT", ref=f"D-FEE-{k}"))
    assert len(entries) == 250
    statement = camt(Report(tuple(entries), id="BIG-0302"), message_id="BIG-0302")
    db = mongo[payments_alone.runtime.db.name]

    async def all_requested() -> bool:
        return bool(await db["payments"].count_documents({}) == len(orders))

    await wait_until(all_requested, timeout=120)
    async with ops(payments_alone) as admin:
        xml = {"Content-Type": "application/xml"}
        imported = await admin.post("/v1/admin/statements", content=statement, headers=xml)
        assert imported.status_code == 200, imported.text
        answer = imported.json()
        counts = {k: answer[k] for k in ("credits", "registered", "reviews_opened", "ignored")}
        assert counts == {"credits": 241, "registered": 240, "reviews_opened": 1, "ignored": 9}
        [foreign] = [e for e in answer["entries"] if e["outcome"] == "review"]
        assert (foreign["where"], foreign["reason"], foreign["amount"]) == (
            f"Stmt[1]/Ntry[{entries.index(francs) + 1}]",
            "foreign_currency",
            "96.00 CHF",
        )
        registered = {e["order_number"] for e in answer["entries"] if e["outcome"] == "registered"}
        assert registered == {o.number for o in orders}
        assert await db["payments"].count_documents({"status": "registered"}) == 240
        reviews = (await admin.get("/v1/admin/reviews")).json()
        assert [(r["review_id"], r["reason"], r["amount_cents"]) for r in reviews] == [
            (foreign["review_id"], "foreign_currency", 0)
        ]
        assert reviews[0]["detail"] == "96.00 CHF: only credits in EUR are reconciled"
        assert reviews[0]["remittance"] == orders[0].number

        again = await admin.post("/v1/admin/statements", content=statement, headers=xml)
        assert (again.json()["already_imported"], again.json()["reviews_opened"]) == (241, 0)
        done = await admin.post(
            f"/v1/admin/reviews/{foreign['review_id']}/resolve",
            json={"action": "dismiss", "note": "sent back by the bank"},
        )
        assert done.status_code == 200, done.text
