"""Customer journeys through the orders API on the real servers, payments played by the test."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from rinnovo.runtime.clock import rome_date

pytestmark = pytest.mark.integration

ACCEPT = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}
Reader = Callable[..., Awaitable[list[Any]]]
Wait = Callable[..., Awaitable[None]]


async def open_renewal(client: Any, service_id: str, **changes: Any) -> dict[str, Any]:
    cart = await client.post("/v1/carts", json={"kind": "renewal", "service_id": service_id})
    assert cart.status_code == 201, cart.text
    body = {"payment_method": "bank_transfer", **changes}
    changed = await client.patch(f"/v1/carts/{cart.json()['cart_id']}", json=body)
    assert changed.status_code == 200, changed.text
    result: dict[str, Any] = changed.json()
    return result


async def test_a_renewal_paid_twice_extends_the_expiry_once(
    stack: Any, topic_reader: Reader, wait_until: Wait
) -> None:
    await stack.import_service("c1", expiry_date="2027-03-31")
    async with stack.customer("c1") as me:
        cart = await open_renewal(
            me,
            "svc-c1",
            storage_gb=5,
            extra_users=1,
            nso=True,
            term_years=3,
            convention_code="ORDINE-COMMERCIALISTI",
        )
        assert cart["active_components"] == {"storage_gb": 1, "extra_users": 0, "nso": False}
        assert cart["quote"]["discount"]["amount_cents"] == 2550
        assert cart["quote"]["total_cents"] == 27999
        placed = await me.post(
            f"/v1/carts/{cart['cart_id']}/checkout", json={"acceptances": ACCEPT}
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        assert order["status"] == "awaiting_payment"
        assert order["actions"] == {"pay": True, "cancel": True}
        assert order["number"].startswith(f"RN-{rome_date(stack.clock.now()).year}-")

        await stack.register_payment(order, "pay-1", times=2)  # delivered twice

        async def paid() -> bool:
            return (await me.get(f"/v1/orders/{order['order_id']}")).json()["status"] == "paid"

        await wait_until(paid)
        await asyncio.sleep(1)  # room for a second application, were there one
        card = (await me.get("/v1/services/svc-c1")).json()
    assert card["expiry_date"] == "2030-03-31"  # three years from the old expiry, once
    assert card["storage_quota_gb"] == 5

    service_events = await stack.events("orders.service.v1", topic_reader, at_least=2)
    assert [e["type"] for e in service_events] == [
        "orders.service.activated",  # the import
        "orders.service.renewed",
    ]
    renewed = service_events[1]["payload"]
    assert renewed["previous_expiry_date"] == "2027-03-31"
    assert renewed["service"]["expiry_date"] == "2030-03-31"
    order_events = await stack.events("orders.order.v1", topic_reader, at_least=2)
    print(
        "DBG",
        [
            (e["type"], e["event_id"], e["aggregate_version"], e["occurred_at"])
            for e in order_events
        ],
    )
    assert [e["type"] for e in order_events] == ["orders.order.placed", "orders.order.paid"]
    assert order_events[0]["payload"]["total_cents"] == 27999


async def test_a_first_purchase_activates_when_paid(stack: Any, wait_until: Wait) -> None:
    async with stack.customer("c7") as me:
        cart = await me.post(
            "/v1/carts",
            json={"kind": "first_purchase", "product_id": "fe-promo", "username": "c7@ex.it"},
        )
        assert cart.status_code == 201, cart.text
        cart_id = cart.json()["cart_id"]
        refused = await me.patch(f"/v1/carts/{cart_id}", json={"term_years": 3})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "term_years"
        await me.patch(f"/v1/carts/{cart_id}", json={"term_years": 2, "payment_method": "card"})
        no_holder = await me.post(f"/v1/carts/{cart_id}/checkout", json={"acceptances": ACCEPT})
        assert no_holder.status_code == 422
        placed = await me.post(
            f"/v1/carts/{cart_id}/checkout",
            json={
                "acceptances": ACCEPT,
                "holder": {"name": "Bianchi Srl", "email": "amm@bianchi.it", "locale": "en"},
            },
        )
        assert placed.status_code == 201, placed.text
        order = placed.json()
        pending = (await me.get(f"/v1/services/{order['service_id']}")).json()
        assert pending["status"] == "pending_activation"
        assert pending["actions"] == {
            "renew": False,
            "upgrade": False,
            "reactivate": False,
            "manage": True,
        }
        await stack.register_payment(order, "pay-first")

        async def active() -> bool:
            card = (await me.get(f"/v1/services/{order['service_id']}")).json()
            return bool(card["status"] == "active")

        await wait_until(active)
        card = (await me.get(f"/v1/services/{order['service_id']}")).json()
    paid_on = rome_date(stack.clock.now())
    assert card["expiry_date"] == paid_on.replace(year=paid_on.year + 2).isoformat()


async def test_an_upgrade_is_pro_rata_and_keeps_the_expiry(stack: Any, wait_until: Wait) -> None:
    today = rome_date(stack.clock.now())
    expiry = today + timedelta(days=100)  # 100 days left, as the card shows
    await stack.import_service("c8", expiry_date=expiry.isoformat(), storage_gb=1)
    async with stack.customer("c8") as me:
        cart = await me.post("/v1/carts", json={"kind": "upgrade", "service_id": "svc-c8"})
        assert cart.status_code == 201, cart.text
        changed = await me.patch(
            f"/v1/carts/{cart.json()['cart_id']}",
            json={"storage_gb": 3, "payment_method": "card"},
        )
        lines = changed.json()["quote"]["lines"]
        assert [(line["item"], line["days"], line["amount_cents"]) for line in lines] == [
            ("storage", 100, 548)
        ]
        placed = await me.post(
            f"/v1/carts/{cart.json()['cart_id']}/checkout", json={"acceptances": ACCEPT}
        )
        order = placed.json()
        await stack.register_payment(order, "pay-up")

        async def upgraded() -> bool:
            return bool((await me.get("/v1/services/svc-c8")).json()["storage_quota_gb"] == 3)

        await wait_until(upgraded)
        assert (await me.get("/v1/services/svc-c8")).json()["expiry_date"] == expiry.isoformat()


async def test_one_idempotency_key_gives_one_order_even_concurrently(stack: Any) -> None:
    await stack.import_service("c2")
    async with stack.customer("c2") as me:
        cart = await open_renewal(me, "svc-c2")
        key = {"Idempotency-Key": str(uuid.uuid4())}
        url = f"/v1/carts/{cart['cart_id']}/checkout"
        answers = await asyncio.gather(
            *[me.post(url, json={"acceptances": ACCEPT}, headers=key) for _ in range(5)]
        )
        assert {a.status_code for a in answers} == {201}
        assert len({a.json()["order_id"] for a in answers}) == 1
        assert len({a.json()["number"] for a in answers}) == 1
        other_body = {"acceptances": ACCEPT, "holder": {"name": "X", "email": "x@example.it"}}
        reused = await me.post(url, json=other_body, headers=key)
        assert reused.status_code == 422
        assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
        orders = (await me.get("/v1/orders")).json()
    assert len(orders) == 1


async def test_an_idempotency_key_is_one_customers_and_theirs_only(stack: Any) -> None:
    """``a:b`` with the key ``c`` and ``a`` with ``b:c`` once shared one record (and order)."""
    for customer in ("a:b", "a"):
        await stack.import_service(customer)
    async with stack.customer("a:b") as victim, stack.customer("a") as other:
        victims = await open_renewal(victim, "svc-a:b")
        url = f"/v1/carts/{victims['cart_id']}/checkout"
        placed = await victim.post(
            url, json={"acceptances": ACCEPT}, headers={"Idempotency-Key": "c"}
        )
        assert placed.status_code == 201, placed.text
        # The other customer naming that cart with the colliding key gets nothing of it.
        taken = await other.post(
            url, json={"acceptances": ACCEPT}, headers={"Idempotency-Key": "b:c"}
        )
        assert taken.status_code == 404, taken.text
        assert placed.json()["order_id"] not in taken.text
        own = await open_renewal(other, "svc-a")
        mine = await other.post(
            f"/v1/carts/{own['cart_id']}/checkout",
            json={"acceptances": ACCEPT},
            headers={"Idempotency-Key": "b:c:own"},
        )
        assert mine.status_code == 201, mine.text
        assert [o["order_id"] for o in (await other.get("/v1/orders")).json()] == [
            mine.json()["order_id"]
        ]


async def test_at_most_one_open_renewal_per_service(stack: Any) -> None:
    await stack.import_service("c3")
    async with stack.customer("c3") as me:
        first = await open_renewal(me, "svc-c3")
        second = await open_renewal(me, "svc-c3")
        ok = await me.post(f"/v1/carts/{first['cart_id']}/checkout", json={"acceptances": ACCEPT})
        assert ok.status_code == 201
        refused = await me.post(
            f"/v1/carts/{second['cart_id']}/checkout", json={"acceptances": ACCEPT}
        )
        assert refused.status_code == 409
        again = await me.post("/v1/carts", json={"kind": "renewal", "service_id": "svc-c3"})
        assert again.status_code == 409
        assert ok.json()["number"] in again.json()["detail"]


async def test_pay_and_cancel_racing_end_in_one_consistent_state(
    stack: Any, topic_reader: Reader, wait_until: Wait
) -> None:
    await stack.import_service("c4")
    async with stack.customer("c4") as me:
        cart = await open_renewal(me, "svc-c4")
        order = (
            await me.post(f"/v1/carts/{cart['cart_id']}/checkout", json={"acceptances": ACCEPT})
        ).json()
        url = f"/v1/orders/{order['order_id']}/cancel"
        _, cancel = await asyncio.gather(
            stack.register_payment(order, "pay-race"), me.post(url, json={"confirm": True})
        )

        async def settled() -> bool:
            events = await stack.events("orders.order.v1", topic_reader, at_least=1)
            return len(events) >= 3 or (
                len(events) == 2 and events[1]["type"] == "orders.order.paid"
            )

        await wait_until(settled)
        final = (await me.get(f"/v1/orders/{order['order_id']}")).json()
        card = (await me.get("/v1/services/svc-c4")).json()
    events = [e["type"] for e in await stack.events("orders.order.v1", topic_reader, at_least=2)]
    if cancel.status_code == 200:
        # Cancelled first: the payment is refused (payments refunds it), the service unchanged.
        assert final["status"] == "cancelled"
        assert events == [
            "orders.order.placed",
            "orders.order.cancelled",
            "orders.order.payment_refused",
        ]
        assert card["expiry_date"] == "2027-03-31"
    else:
        assert cancel.status_code == 409
        assert final["status"] == "paid"
        assert events == ["orders.order.placed", "orders.order.paid"]
        assert card["expiry_date"] == "2028-03-31"


async def test_cancelling_needs_confirmation_and_only_unpaid_orders(
    stack: Any, wait_until: Wait
) -> None:
    await stack.import_service("c5")
    async with stack.customer("c5") as me:
        cart = await open_renewal(me, "svc-c5")
        order = (
            await me.post(f"/v1/carts/{cart['cart_id']}/checkout", json={"acceptances": ACCEPT})
        ).json()
        url = f"/v1/orders/{order['order_id']}/cancel"
        unconfirmed = await me.post(url, json={"confirm": False})
        assert unconfirmed.status_code == 422
        assert unconfirmed.headers["content-type"] == "application/problem+json"
        assert (await me.post(url, json={"confirm": True})).status_code == 200
        twice = await me.post(url, json={"confirm": True})
        assert twice.status_code == 409

        cart = await open_renewal(me, "svc-c5")
        paid_order = (
            await me.post(f"/v1/carts/{cart['cart_id']}/checkout", json={"acceptances": ACCEPT})
        ).json()
        await stack.register_payment(paid_order, "pay-c5")

        async def paid() -> bool:
            got = await me.get(f"/v1/orders/{paid_order['order_id']}")
            return bool(got.json()["status"] == "paid")

        await wait_until(paid)
        late = await me.post(f"/v1/orders/{paid_order['order_id']}/cancel", json={"confirm": True})
        assert late.status_code == 409


async def test_bad_input_is_a_422_naming_the_field(stack: Any) -> None:
    await stack.import_service("c6")
    async with stack.customer("c6") as me:
        cart = await open_renewal(me, "svc-c6")
        url = f"/v1/carts/{cart['cart_id']}"
        cases = {
            "term_years": {"term_years": 11},
            "extra_users": {"extra_users": -1},
            "storage_gb": {"storage_gb": 1.5},
            "convention_code": {"convention_code": "NESSUNO"},
            "payment_method": {"payment_method": "cash"},
            "automatic_renewal": {"automatic_renewal": True, "payment_method": "bank_transfer"},
        }
        for field, body in cases.items():
            answer = await me.patch(url, json=body)
            assert answer.status_code == 422, (field, answer.text)
            problem = answer.json()
            assert problem["status"] == 422
            assert field in {e["field"] for e in problem["errors"]}, (field, problem)
        partial = {"general_conditions": ACCEPT["general_conditions"]}
        missing = await me.post(f"{url}/checkout", json={"acceptances": partial})
        assert missing.status_code == 422
        old_version = {**ACCEPT, "privacy": {"accepted": True, "version": "2019-01"}}
        stale = await me.post(f"{url}/checkout", json={"acceptances": old_version})
        assert stale.status_code == 422
        assert stale.json()["errors"][0]["field"] == "acceptances.privacy"


async def test_customers_only_ever_see_their_own_things(stack: Any) -> None:
    await stack.import_service("alice")
    async with stack.customer("alice") as alice:
        cart = await open_renewal(alice, "svc-alice")
        order = (
            await alice.post(f"/v1/carts/{cart['cart_id']}/checkout", json={"acceptances": ACCEPT})
        ).json()
    async with stack.customer("mallory") as mallory:
        attempts = [
            mallory.get("/v1/services/svc-alice"),
            mallory.get("/v1/services/svc-alice/orders"),
            mallory.put("/v1/services/svc-alice/automatic-renewal", json={"enabled": False}),
            mallory.post("/v1/carts", json={"kind": "renewal", "service_id": "svc-alice"}),
            mallory.get(f"/v1/carts/{cart['cart_id']}"),
            mallory.patch(f"/v1/carts/{cart['cart_id']}", json={"term_years": 2}),
            mallory.post(f"/v1/carts/{cart['cart_id']}/checkout", json={"acceptances": ACCEPT}),
            mallory.get(f"/v1/orders/{order['order_id']}"),
            mallory.post(f"/v1/orders/{order['order_id']}/cancel", json={"confirm": True}),
        ]
        answers = await asyncio.gather(*attempts)
        assert [a.status_code for a in answers] == [404] * len(attempts)
        assert (await mallory.get("/v1/services")).json() == []
        assert (await mallory.get("/v1/orders")).json() == []
        assert (
            await mallory.post("/v1/admin/services", json={}, headers={"Authorization": "Bearer x"})
        ).status_code == 401
    async with stack.customer("alice") as alice:
        assert (await alice.post("/v1/admin/services", json={})).status_code == 403
        alice.headers.pop("Authorization")
        assert (await alice.get("/v1/services")).status_code == 401


async def test_automatic_renewal_switch_hides_renew(stack: Any, topic_reader: Reader) -> None:
    await stack.import_service("c9")
    async with stack.customer("c9") as me:
        refused = await me.put(
            "/v1/services/svc-c9/automatic-renewal",
            json={"enabled": True, "payment_method": "bank_transfer"},
        )
        assert refused.status_code == 422
        on = await me.put(
            "/v1/services/svc-c9/automatic-renewal",
            json={"enabled": True, "term_years": 2, "payment_method": "card"},
        )
        assert on.status_code == 200, on.text
        assert on.json()["actions"]["renew"] is False
    events = await stack.events("orders.service.v1", topic_reader, at_least=2)
    switched = events[-1]
    assert switched["type"] == "orders.service.automatic_renewal_switched"
    assert switched["payload"]["service"]["automatic_renewal"] == {
        "enabled": True,
        "term_years": 2,
        "payment_method": "card",
    }


def test_dates_in_this_module_are_rome_dates() -> None:
    assert rome_date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == date(2027, 1, 1)
