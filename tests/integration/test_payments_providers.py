"""The card provider on the real servers: hosted checkout, signed callbacks, automatic renewal.

The card plugin uses Stripe's own SDK; its HTTP calls go to a local stand-in for Stripe's API
started here (the SDK is pointed at it by address, nothing in it is patched), and callbacks
are signed with Stripe's scheme and the configured secret, as Stripe signs them.
"""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pymongo import AsyncMongoClient

from rinnovo.payments.bootstrap import PaymentsSettings
from rinnovo.payments.bootstrap import build as build_payments
from rinnovo.runtime.auth import AuthSettings, issue_token
from rinnovo.runtime.plugins import BuiltService
from rinnovo.testing.payment_providers import FakeStripe, running_fake_stripe, stripe_signature
from rinnovo.testing.payment_providers import checkout_completed as stripe_checkout_completed
from tests.e2e.in_flight import group_positions, outbox_pending
from tests.e2e.system import read_to_end

pytestmark = pytest.mark.integration

Reader = Callable[..., Awaitable[list[Any]]]
Wait = Callable[..., Awaitable[None]]
ACCEPT = {
    doc: {"accepted": True, "version": "2025-01"}
    for doc in ("general_conditions", "unfair_terms", "privacy")
}
WEBHOOK_SECRET = "whsec_test_" + uuid.uuid4().hex


@pytest.fixture
async def fake_stripe() -> AsyncIterator[FakeStripe]:
    async with running_fake_stripe() as fake:
        yield fake


@pytest.fixture
async def payments(
    stack: Any, database_name: Callable[[str], str], fake_stripe: FakeStripe
) -> AsyncIterator[BuiltService]:
    built = build_payments(
        PaymentsSettings(
            infra=stack.infra,
            database=database_name("payments"),
            outbox_poll_seconds=0.05,
            scheduler_interval_seconds=0.1,
            public_base_url="http://payments.test",
            methods=["bank_transfer", "card", "sepa_direct_debit"],
            stripe_api_key="sk_test_123",
            stripe_webhook_secret=WEBHOOK_SECRET,
            stripe_api_base=fake_stripe.url,
        ),
        clock=stack.clock,
    )
    async with built.runtime.running():
        yield built


def client(payments: BuiltService, subject: str | None = None, *roles: str) -> AsyncClient:
    auth = {}
    if subject:
        token = issue_token(AuthSettings(), subject, set(roles))
        auth = {"Authorization": f"Bearer {token}"}
    return AsyncClient(
        transport=ASGITransport(payments.app), base_url="http://payments.test", headers=auth
    )


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: int | None = None) -> dict[str, str]:
    return stripe_signature(body, secret, at)


def checkout_completed(payment: dict[str, Any], intent: str) -> bytes:
    return stripe_checkout_completed(payment["payment_id"], payment["amount_cents"], intent)


async def place_renewal(stack: Any, customer: str, method: str) -> dict[str, Any]:
    await stack.import_service(customer)
    async with stack.customer(customer) as me:
        cart = await me.post("/v1/carts", json={"kind": "renewal", "service_id": f"svc-{customer}"})
        cart_id = cart.json()["cart_id"]
        await me.patch(f"/v1/carts/{cart_id}", json={"payment_method": method})
        placed = await me.post(f"/v1/carts/{cart_id}/checkout", json={"acceptances": ACCEPT})
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
    return order


async def my_payment(
    payments: BuiltService, customer: str, order: dict[str, Any], wait: Wait
) -> Any:
    async with client(payments, customer, "customer") as me:

        async def requested() -> bool:
            got = await me.get("/v1/payments", params={"order_id": order["order_id"]})
            return len(got.json()) == 1

        await wait(requested)
        return (await me.get("/v1/payments", params={"order_id": order["order_id"]})).json()[0]


async def caught_up(stack: Any, payments: BuiltService, wait: Wait) -> None:
    """Until what payments wrote is published, orders has consumed all of it and what orders
    wrote in turn is published: a second registration or renewal would be on the topics by
    then. Each step is looked at once the one before it holds."""
    url = stack.infra.mongodb_url.get_secret_value()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    bootstrap = stack.infra.kafka_bootstrap_servers
    orders = stack.orders.runtime

    async def drained(database: str) -> bool:
        return await outbox_pending(client, database) == 0

    async def orders_consumed_payments() -> bool:
        topic = stack.topic("payments.payment.v1")
        kafka = {"bootstrap_servers": bootstrap}
        positions = await group_positions(kafka, orders.group_id, [topic])
        return all(done == end for end, done in positions.values())

    try:
        await wait(lambda: drained(payments.runtime.db.name))
        await wait(orders_consumed_payments)
        await wait(lambda: drained(orders.db.name))
    finally:
        await client.close()


async def everything_on(stack: Any, topic: str) -> list[dict[str, Any]]:
    """Every event on one of the stack's topics, up to its end."""
    values = await read_to_end(stack.infra.kafka_bootstrap_servers, stack.topic(topic))
    return [json.loads(v) for v in values]


async def types_on(stack: Any, reader: Reader, topic: str, at_least: int = 1) -> list[str]:
    return [e["type"] for e in await stack.events(topic, reader, at_least=at_least)]


async def test_the_checkout_link_opens_one_stripe_session(
    stack: Any, payments: BuiltService, fake_stripe: FakeStripe, wait_until: Wait
) -> None:
    order = await place_renewal(stack, "k1", "card")
    payment = await my_payment(payments, "k1", order, wait_until)
    link = payment["instructions"]["checkout_url"]
    assert link == f"http://payments.test/v1/payments/{payment['payment_id']}/checkout"
    assert payment["usual_registration_days"] == 0
    async with client(payments) as browser:
        first, second = [await browser.get(link) for _ in range(2)]
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert first.headers["location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")
    [(path, params, key)] = fake_stripe.requests  # one session for both clicks
    assert path == "checkout/sessions"
    assert key == f"checkout-{payment['payment_id']}-1"
    assert params["client_reference_id"] == payment["payment_id"]
    assert params["line_items[0][price_data][unit_amount]"] == str(order["total_cents"])
    assert params["line_items[0][price_data][currency]"] == "eur"
    async with client(payments, "mallory", "customer") as m:
        assert (await m.get("/v1/payments", params={"order_id": order["order_id"]})).json() == []


async def test_a_signed_callback_registers_once_even_delivered_three_times_at_once(
    stack: Any, payments: BuiltService, topic_reader: Reader, wait_until: Wait
) -> None:
    order = await place_renewal(stack, "k2", "card")
    payment = await my_payment(payments, "k2", order, wait_until)
    body = checkout_completed(payment, "pi_test_paid")
    url = "/v1/providers/stripe/callback"
    async with client(payments) as stripe:
        forged = await stripe.post(url, content=body, headers=signed(body, secret="whsec_wrong"))
        assert forged.status_code == 400
        unsigned = await stripe.post(url, content=body)
        assert unsigned.status_code == 400
        assert (await my_payment(payments, "k2", order, wait_until))["status"] == "pending"

        deliveries = await asyncio.gather(
            *[stripe.post(url, content=body, headers=signed(body)) for _ in range(3)]
        )
        assert [d.status_code for d in deliveries] == [200, 200, 200], deliveries[0].text
        assert "registered" in [d.json()["outcome"] for d in deliveries]

        stale = int(time.time()) - 3600  # genuine, but signed an hour ago: a replay
        replayed = await stripe.post(url, content=body, headers=signed(body, at=stale))
        assert replayed.status_code == 400

    async def renewed() -> bool:
        return "orders.service.renewed" in await types_on(stack, topic_reader, "orders.service.v1")

    await wait_until(renewed)
    await caught_up(stack, payments, wait_until)  # a second registration would be out by now
    payment_types = [e["type"] for e in await everything_on(stack, "payments.payment.v1")]
    assert payment_types == ["payments.payment.requested", "payments.payment.registered"]
    service_types = [e["type"] for e in await everything_on(stack, "orders.service.v1")]
    assert service_types.count("orders.service.renewed") == 1
    shown = await my_payment(payments, "k2", order, wait_until)
    assert shown["status"] == "registered"
    assert shown["registered_amount_cents"] == order["total_cents"]


async def test_automatic_renewal_declined_then_retried_renews_once(
    stack: Any,
    payments: BuiltService,
    fake_stripe: FakeStripe,
    topic_reader: Reader,
    wait_until: Wait,
) -> None:
    fake_stripe.charges = ["decline", "succeed"]
    async with client(payments, "ops", "admin") as admin:
        stored = await admin.put(
            "/v1/admin/customers/k3/stored-methods/card",
            json={"provider_customer": "cus_k3", "provider_method": "pm_k3", "label": "Visa 4242"},
        )
        assert stored.status_code == 200, stored.text
    today = stack.clock.now().date()
    expiry = today + timedelta(days=20)  # inside the 30-day lead: renewal is due now
    await stack.import_service(
        "k3",
        expiry_date=expiry.isoformat(),
        automatic_renewal={"enabled": True, "term_years": 1, "payment_method": "card"},
    )

    def attempted(count: int) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            types = await types_on(stack, topic_reader, "payments.payment.v1")
            return types.count("payments.payment.charge_attempted") >= count

        return check

    await wait_until(attempted(1))
    events = await stack.events("payments.payment.v1", topic_reader, at_least=2)
    first = next(e for e in events if e["type"] == "payments.payment.charge_attempted")["payload"]
    assert first["succeeded"] is False
    assert first["reason"] == "Your card has insufficient funds."
    next_on = first["next_attempt_on"]
    assert next_on is not None

    stack.clock.advance(timedelta(days=1, minutes=1))  # the catalog's first retry: a day later
    await wait_until(attempted(2))

    async def renewed() -> bool:
        return "orders.service.renewed" in await types_on(stack, topic_reader, "orders.service.v1")

    await wait_until(renewed)
    await caught_up(stack, payments, wait_until)  # a third charge would be out by now
    events = await everything_on(stack, "payments.payment.v1")
    assert [e["type"] for e in events] == [
        "payments.payment.requested",
        "payments.payment.charge_attempted",
        "payments.payment.charge_attempted",
        "payments.payment.registered",
    ]
    assert [e["payload"]["succeeded"] for e in events[1:3]] == [False, True]
    assert events[0]["payload"]["instructions"]["kind"] == "stored_method"
    assert events[3]["payload"]["source"] == "stored_method"
    service_events = await everything_on(stack, "orders.service.v1")
    renewals = [e for e in service_events if e["type"] == "orders.service.renewed"]
    assert len(renewals) == 1
    assert (
        renewals[0]["payload"]["service"]["expiry_date"]
        == expiry.replace(year=expiry.year + 1).isoformat()
    )
    charges = [(p, k) for p, _, k in fake_stripe.requests if p == "payment_intents"]
    payment_id = events[0]["payload"]["payment_id"]
    assert [k for _, k in charges] == [f"{payment_id}-attempt-1", f"{payment_id}-attempt-2"]
    params = next(p for path, p, _ in fake_stripe.requests if path == "payment_intents")
    assert params["customer"] == "cus_k3"
    assert params["payment_method"] == "pm_k3"
    assert params["off_session"] == "true"


async def test_a_customer_stores_only_a_card_stripe_confirmed_for_them_and_renewal_charges_it(
    stack: Any,
    payments: BuiltService,
    fake_stripe: FakeStripe,
    topic_reader: Reader,
    wait_until: Wait,
) -> None:
    async with (
        client(payments, "k4", "customer") as me,
        client(payments, "mallory", "customer") as mallory,
    ):
        started = await me.post("/v1/stored-methods/card/setup")
        assert started.status_code == 201, started.text
        setup_id = started.json()["setup_id"]
        assert started.json()["client_secret"].startswith(f"{setup_id}_secret_")
        early = await me.put("/v1/stored-methods/card", json={"setup_id": setup_id})
        assert early.status_code == 422, early.text  # not yet confirmed in the browser
        pm = fake_stripe.confirm_setup(setup_id)  # what Stripe.js does in the browser
        stored = await me.put("/v1/stored-methods/card", json={"setup_id": setup_id})
        assert stored.status_code == 200, stored.text
        assert stored.json()["label"] == "Visa **** 4242"
        customer = fake_stripe.setups[setup_id]["customer"]

        # Whoever learnt k4's references or setup id stores nothing with them.
        for body in (
            {"provider_customer": customer, "provider_method": pm, "label": "mine"},
            {"setup_id": setup_id},
        ):
            taken = await mallory.put("/v1/stored-methods/card", json=body)
            assert taken.status_code == 422, taken.text
        assert (await mallory.get("/v1/stored-methods")).json() == []
        assert [m["label"] for m in (await me.get("/v1/stored-methods")).json()] == [
            "Visa **** 4242"
        ]

    fake_stripe.charges = ["succeed"]
    expiry = stack.clock.now().date() + timedelta(days=20)  # automatic renewal due now
    await stack.import_service(
        "k4",
        expiry_date=expiry.isoformat(),
        automatic_renewal={"enabled": True, "term_years": 1, "payment_method": "card"},
    )

    async def renewed() -> bool:
        return "orders.service.renewed" in await types_on(stack, topic_reader, "orders.service.v1")

    await wait_until(renewed)
    [charge] = [p for path, p, _ in fake_stripe.requests if path == "payment_intents"]
    assert (charge["customer"], charge["payment_method"]) == (customer, pm)
