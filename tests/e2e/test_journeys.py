"""Customers' journeys through the whole system: four service processes, the real Kafka and
MongoDB-wire servers, a real SMTP server, Stripe's API played locally, bank files made here.

Each journey checks what the customer sees (API answers, e-mails) and what an integrator sees
(every topic, read by a plain consumer; every event checked against the contracts).
"""

import math
from collections import Counter
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from rinnovo.orders.domain.calendar import add_years
from rinnovo.runtime.clock import end_of_rome_day, rome_date
from rinnovo.testing.payment_providers import camt053, checkout_completed, euro, stripe_signature
from tests.e2e.system import ACCEPTANCES, System, eventually, read_to_end

pytestmark = pytest.mark.integration

GB = 1_000_000_000


# ---- the outside world's moves ----


async def now_of(system: System) -> datetime:
    async with system.admin("orders") as admin:
        return datetime.fromisoformat((await admin.get("/v1/admin/clock")).json()["now"])


async def today(system: System) -> date:
    return rome_date(await now_of(system))


async def travel_to(system: System, instant: datetime) -> None:
    """Move the whole system to just after ``instant``."""
    seconds = math.ceil((instant - await now_of(system)).total_seconds()) + 1
    if seconds > 0:
        await system.advance(seconds=seconds)


async def import_service(system: System, customer: str, **fields: Any) -> dict[str, Any]:
    """An existing service brought in by operators (how the customer base got here)."""
    body = {
        "service_id": f"svc-{customer}",
        "customer_id": customer,
        "holder": {"name": "Studio Rossi", "email": f"{customer}@example.it", "locale": "it"},
        "username": f"{customer}@fe.example.it",
        "product_id": "fe-standard",
        "storage_gb": 1,
        **fields,
    }
    async with system.admin("orders") as admin:
        answer = await admin.post("/v1/admin/services", json=body)
    assert answer.status_code == 201, answer.text
    card: dict[str, Any] = answer.json()
    return card


async def place_order(
    system: System,
    customer: str,
    cart: dict[str, Any],
    change: dict[str, Any],
    holder: dict[str, Any] | None = None,
) -> dict[str, Any]:
    async with system.customer(customer) as me:
        opened = await me.post("/v1/carts", json=cart)
        assert opened.status_code == 201, opened.text
        cart_id = opened.json()["cart_id"]
        changed = await me.patch(f"/v1/carts/{cart_id}", json=change)
        assert changed.status_code == 200, changed.text
        body: dict[str, Any] = {"acceptances": ACCEPTANCES}
        if holder is not None:
            body["holder"] = holder
        placed = await me.post(f"/v1/carts/{cart_id}/checkout", json=body)
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
        assert order["total_cents"] == changed.json()["quote"]["total_cents"]
    return order


async def payment_of(system: System, customer: str, order: dict[str, Any]) -> dict[str, Any]:
    """The customer's payment of an order, once payments has it."""
    found: list[dict[str, Any]] = []

    async def requested() -> bool:
        async with system.customer(customer, "payments") as me:
            answer = await me.get("/v1/payments", params={"order_id": order["order_id"]})
        found[:] = answer.json()
        return len(found) == 1

    await eventually(requested)
    return found[0]


async def pay_by_card(system: System, customer: str, order: dict[str, Any]) -> None:
    """The customer follows the checkout link, pays at Stripe, and Stripe calls back."""
    payment = await payment_of(system, customer, order)
    async with system.client("payments") as browser:
        link = await browser.get(payment["instructions"]["checkout_url"])
        assert link.status_code == 303, link.text
        assert link.headers["location"].startswith("https://checkout.stripe.com/")
        body = checkout_completed(payment["payment_id"], payment["amount_cents"], "pi_e2e")
        signature = stripe_signature(body, system.webhook_secret)
        called = await browser.post(
            "/v1/providers/stripe/callback", content=body, headers=signature
        )
    assert called.status_code == 200, called.text


async def import_statement(system: System, statement: bytes, content_type: str) -> dict[str, Any]:
    async with system.admin("payments") as admin:
        answer = await admin.post(
            "/v1/admin/statements", content=statement, headers={"Content-Type": content_type}
        )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


# ---- what the customer sees ----


async def card_of(system: System, customer: str, service_id: str) -> dict[str, Any]:
    async with system.customer(customer) as me:
        answer = await me.get(f"/v1/services/{service_id}")
    assert answer.status_code == 200, answer.text
    card: dict[str, Any] = answer.json()
    return card


async def order_of(system: System, customer: str, order: dict[str, Any]) -> dict[str, Any]:
    async with system.customer(customer) as me:
        shown: dict[str, Any] = (await me.get(f"/v1/orders/{order['order_id']}")).json()
    return shown


async def until_card(system: System, customer: str, service_id: str, **expected: Any) -> None:
    async def shows() -> bool:
        card = await card_of(system, customer, service_id)
        return all(card[k] == v for k, v in expected.items())

    await eventually(shows, what=f"the card shows {expected}")


async def mail_subjects(system: System, address: str, count: int) -> list[str]:
    """The subjects of the e-mails to ``address``, once ``count`` arrived (and not more)."""

    async def arrived() -> bool:
        return len(system.mails_to(address)) >= count

    await eventually(arrived, what=f"{count} e-mails to {address}")
    subjects = [str(m["Subject"]).strip() for m in system.mails_to(address)]
    assert len(subjects) == count, subjects
    return subjects


def mail_text(system: System, address: str, subject_part: str) -> str:
    [mail] = [m for m in system.mails_to(address) if subject_part in str(m["Subject"])]
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def events_of(system: System, topic: str, aggregate_id: str) -> list[str]:
    return [e["type"] for e in await system.events(topic) if e["aggregate_id"] == aggregate_id]


def day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


# ---- the journeys ----


async def test_first_purchase_paid_by_card(system: System) -> None:
    await first_purchase_paid_by_card(system)


async def test_first_purchase_paid_by_card_on_a_broker_that_requires_sasl(
    sasl_system: System,
) -> None:
    """Every Kafka client of every service (consumers, the relay's producer, topic creation)
    logs in with SCRAM-SHA-512; a client that does not is turned away."""
    await first_purchase_paid_by_card(sasl_system)
    with pytest.raises(KafkaConnectionError):
        await read_to_end(
            sasl_system.stack.kafka_bootstrap_servers, sasl_system.prefix + "orders.order.v1"
        )


async def first_purchase_paid_by_card(system: System) -> None:
    customer, email = "c-first", "studio.primo@example.it"
    order = await place_order(
        system,
        customer,
        {"kind": "first_purchase", "product_id": "fe-standard", "username": "primo@fe.example.it"},
        {"payment_method": "card"},
        holder={"name": "Studio Primo", "email": email, "locale": "it"},
    )
    assert order["status"] == "awaiting_payment"
    assert order["total_cents"] == 3050  # 25,00 € + 22 % VAT
    await pay_by_card(system, customer, order)

    paid_on = await today(system)
    await until_card(system, customer, order["service_id"], status="active")
    card = await card_of(system, customer, order["service_id"])
    assert card["expiry_date"] == add_years(paid_on, 1).isoformat()
    assert card["username"] == "primo@fe.example.it"
    assert (await order_of(system, customer, order))["status"] == "paid"

    subjects = await mail_subjects(system, email, 2)
    assert subjects[0] == f"Ordine {order['number']} confermato: istruzioni per il pagamento"
    assert subjects[1] == "Pagamento registrato: il servizio primo@fe.example.it è attivo"
    assert "30,50 €" in mail_text(system, email, "confermato")

    assert await events_of(system, "orders.order.v1", order["order_id"]) == [
        "orders.order.placed",
        "orders.order.paid",
    ]
    assert await events_of(system, "orders.service.v1", order["service_id"]) == [
        "orders.service.activated"
    ]
    payments = [e["type"] for e in await system.events("payments.payment.v1")]
    assert payments == ["payments.payment.requested", "payments.payment.registered"]
    assert await system.types("notifier.notification.v1") == ["notifier.notification.sent"] * 2


async def test_manual_renewal_by_bank_transfer(system: System) -> None:
    customer, email = "c-bank", "c-bank@example.it"
    old_expiry = await today(system) + timedelta(days=40)
    await import_service(system, customer, expiry_date=old_expiry.isoformat())
    change = {
        "storage_gb": 5,
        "extra_users": 1,
        "nso": True,
        "convention_code": "ORDINE-COMMERCIALISTI",
        "term_years": 3,
        "payment_method": "bank_transfer",
    }
    # Imported 40 days before expiry: the reminder due is sent, saying how things are now.
    [reminder] = await mail_subjects(system, email, 1)
    assert (
        reminder
        == f"Il servizio {customer}@fe.example.it scade tra 40 giorni ({day_text(old_expiry)})"
    )
    order = await place_order(
        system, customer, {"kind": "renewal", "service_id": f"svc-{customer}"}, change
    )
    # Per year: 25 € base + 4 GB more than included at 10 € + 1 user at 5 € + NSO at 15 €
    # = 85 €; for 3 years = 255 €; the convention takes 10 %: 229,50 €; + 22 % VAT = 279,99 €.
    assert order["total_cents"] == 27999
    assert order["status"] == "awaiting_payment"

    confirmed = (await mail_subjects(system, email, 2))[1]
    assert confirmed == f"Ordine {order['number']} confermato: istruzioni per il pagamento"
    instructions = mail_text(system, email, "confermato")
    assert "IT60X0542811101000000123456" in instructions
    assert order["number"] in instructions
    assert "279,99 €" in instructions

    statement = camt053(
        "E2E-STMT-1",
        [("E2E-B-1", order["total_cents"], "CRDT", f"Rinnovo ordine {order['number']}")],
    )
    result = await import_statement(system, statement, "application/xml")
    assert (result["registered"], result["reviews_opened"]) == (1, 0)

    new_expiry = add_years(old_expiry, 3)
    await until_card(
        system, customer, f"svc-{customer}", expiry_date=new_expiry.isoformat(), status="active"
    )
    card = await card_of(system, customer, f"svc-{customer}")
    assert card["storage_quota_gb"] == 5
    assert (await order_of(system, customer, order))["status"] == "paid"
    subjects = await mail_subjects(system, email, 3)
    assert (
        subjects[2]
        == f"Rinnovo completato: {customer}@fe.example.it è attivo fino al {day_text(new_expiry)}"
    )
    assert await events_of(system, "orders.service.v1", f"svc-{customer}") == [
        "orders.service.activated",  # the import
        "orders.service.expiring",
        "orders.service.renewed",
    ]
    # The same file imported again changes nothing.
    again = await import_statement(system, statement, "application/xml")
    assert again["first_import"] is False and again["registered"] == 0


async def test_automatic_renewal_fails_once_and_succeeds_on_retry(system: System) -> None:
    customer, email = "c-auto", "c-auto@example.it"
    system.stripe.charges = ["decline", "succeed"]
    async with system.admin("payments") as admin:
        stored = await admin.put(
            f"/v1/admin/customers/{customer}/stored-methods/card",
            json={"provider_customer": "cus_e2e", "provider_method": "pm_e2e", "label": "Visa"},
        )
        assert stored.status_code == 200, stored.text
    expiry = await today(system) + timedelta(days=20)  # inside the 30 days' lead
    await import_service(
        system,
        customer,
        expiry_date=expiry.isoformat(),
        automatic_renewal={"enabled": True, "term_years": 1, "payment_method": "card"},
    )
    subjects = await mail_subjects(system, email, 2)
    assert subjects[0].startswith(f"Rinnovo automatico di {customer}@fe.example.it: addebito di")
    assert subjects[1].startswith("Rinnovo automatico: addebito non riuscito, nuovo tentativo il")

    await system.advance(days=1, seconds=60)  # the first retry is a day later
    new_expiry = add_years(expiry, 1)
    await until_card(system, customer, f"svc-{customer}", expiry_date=new_expiry.isoformat())
    subjects = await mail_subjects(system, email, 3)
    assert subjects[2] == (
        f"Rinnovo automatico riuscito: {customer}@fe.example.it è attivo "
        f"fino al {day_text(new_expiry)}"
    )
    assert await system.types("payments.payment.v1") == [
        "payments.payment.requested",
        "payments.payment.charge_attempted",
        "payments.payment.charge_attempted",
        "payments.payment.registered",
    ]
    assert (await events_of(system, "orders.service.v1", f"svc-{customer}")).count(
        "orders.service.renewed"
    ) == 1
    charges = [key for path, _, key in system.stripe.requests if path == "payment_intents"]
    assert len(charges) == 2 and charges[0] != charges[1]


async def test_expired_service_reactivated_by_postal_slip_inside_the_window(
    system: System,
) -> None:
    customer, email = "c-late", "c-late@example.it"
    expiry = await today(system) + timedelta(days=7)
    await import_service(system, customer, expiry_date=expiry.isoformat())
    await mail_subjects(system, email, 1)  # the 7-day reminder is due today
    await travel_to(system, end_of_rome_day(expiry - timedelta(days=2)))  # the 1-day reminder
    await mail_subjects(system, email, 2)
    await travel_to(system, end_of_rome_day(expiry))  # the expiry day ends
    await until_card(system, customer, f"svc-{customer}", status="expired")
    card = await card_of(system, customer, f"svc-{customer}")
    assert card["actions"]["reactivate"] is True and card["actions"]["renew"] is False
    deadline = date.fromisoformat(card["reactivation_deadline"])
    assert deadline == expiry + timedelta(days=60)
    subjects = await mail_subjects(system, email, 3)
    assert subjects == [
        f"Il servizio {customer}@fe.example.it scade tra 7 giorni ({day_text(expiry)})",
        f"Il servizio {customer}@fe.example.it scade domani ({day_text(expiry)})",
        f"Il servizio {customer}@fe.example.it è scaduto: riattivalo entro il {day_text(deadline)}",
    ]

    await travel_to(system, end_of_rome_day(expiry + timedelta(days=20)))
    order = await place_order(
        system,
        customer,
        {"kind": "reactivation", "service_id": f"svc-{customer}"},
        {"payment_method": "postal_slip"},
    )
    await mail_subjects(system, email, 4)
    assert "000012345678" in mail_text(system, email, "confermato")  # the postal account
    slip = (
        "transaction_id,date,amount,remittance,payer\n"
        f"BP-1,{await today(system)},{euro(order['total_cents'])},{order['number']},Studio Rossi\n"
    )
    result = await import_statement(system, slip.encode(), "text/csv")
    assert result["registered"] == 1

    await until_card(system, customer, f"svc-{customer}", status="active")
    card = await card_of(system, customer, f"svc-{customer}")
    assert card["expiry_date"] == add_years(expiry, 1).isoformat()
    subjects = await mail_subjects(system, email, 5)
    assert subjects[4].startswith(
        f"Riattivazione completata: {customer}@fe.example.it è attivo fino al"
    )
    assert await events_of(system, "orders.service.v1", f"svc-{customer}") == [
        "orders.service.activated",  # the import
        "orders.service.expiring",
        "orders.service.expiring",
        "orders.service.expired",
        "orders.service.reactivated",
    ]


async def test_service_left_past_the_window_is_deactivated_and_a_late_payment_reviewed(
    system: System,
) -> None:
    customer, email = "c-gone", "c-gone@example.it"
    expiry = await today(system) + timedelta(days=1)
    await import_service(system, customer, expiry_date=expiry.isoformat())
    deadline = expiry + timedelta(days=60)
    await mail_subjects(system, email, 1)  # "expires tomorrow", before time moves on

    await travel_to(system, end_of_rome_day(deadline - timedelta(days=5)))
    order = await place_order(
        system,
        customer,
        {"kind": "reactivation", "service_id": f"svc-{customer}"},
        {"payment_method": "bank_transfer"},
    )
    await travel_to(system, end_of_rome_day(deadline))  # the window closes unpaid
    await until_card(system, customer, f"svc-{customer}", status="deactivated")
    card = await card_of(system, customer, f"svc-{customer}")
    assert not any(card["actions"][a] for a in ("renew", "reactivate", "upgrade"))

    late = camt053(
        "E2E-STMT-LATE", [("E2E-L-1", order["total_cents"], "CRDT", f"ordine {order['number']}")]
    )
    assert (await import_statement(system, late, "application/xml"))["registered"] == 1

    async def reviewed() -> bool:
        async with system.admin("payments") as admin:
            reviews = (await admin.get("/v1/admin/reviews")).json()
        return [(r["reason"], r["order_number"]) for r in reviews] == [
            ("payment_refused", order["number"])
        ]

    await eventually(reviewed, what="the refused payment is in review")
    card = await card_of(system, customer, f"svc-{customer}")
    assert card["status"] == "deactivated"
    assert await events_of(system, "orders.service.v1", f"svc-{customer}") == [
        "orders.service.activated",  # the import
        "orders.service.expiring",
        "orders.service.expired",
        "orders.service.reactivation_window_closing",
        "orders.service.deactivated",
    ]
    assert "orders.order.payment_refused" in await events_of(
        system, "orders.order.v1", order["order_id"]
    )
    subjects = [str(m["Subject"]) for m in system.mails_to(email)]
    assert subjects[-1] == f"Il servizio {customer}@fe.example.it è stato disattivato"
    assert not any("Riattivazione completata" in s for s in subjects)


async def test_upgrade_mid_term_pro_rata_and_cancelling_an_unpaid_order(system: System) -> None:
    customer, email = "c-up", "c-up@example.it"
    start = await today(system)
    expiry = start + timedelta(days=200)
    await import_service(system, customer, expiry_date=expiry.isoformat(), storage_gb=1)
    order = await place_order(
        system,
        customer,
        {"kind": "upgrade", "service_id": f"svc-{customer}"},
        {"storage_gb": 5, "payment_method": "card"},
    )
    days = (expiry - start).days + 1  # the expiry day included
    net = round_half_up(Fraction(1000 * 4 * days, 365))
    assert order["total_cents"] == net + round_half_up(Fraction(net * 22, 100))
    await pay_by_card(system, customer, order)
    await until_card(system, customer, f"svc-{customer}", storage_quota_gb=5)
    card = await card_of(system, customer, f"svc-{customer}")
    assert card["expiry_date"] == expiry.isoformat()

    renewal = await place_order(
        system,
        customer,
        {"kind": "renewal", "service_id": f"svc-{customer}"},
        {"payment_method": "bank_transfer"},
    )
    async with system.customer(customer) as me:
        refused = await me.post(f"/v1/orders/{renewal['order_id']}/cancel", json={"confirm": False})
        assert refused.status_code == 422
        cancelled = await me.post(
            f"/v1/orders/{renewal['order_id']}/cancel", json={"confirm": True}
        )
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        paid_one = await me.post(f"/v1/orders/{order['order_id']}/cancel", json={"confirm": True})
        assert paid_one.status_code == 409

    subjects = await mail_subjects(system, email, 4)
    assert Counter(subjects) == Counter(
        [
            f"Ordine {order['number']} confermato: istruzioni per il pagamento",
            f"Pagamento registrato: l'upgrade di {customer}@fe.example.it è attivo",
            f"Ordine {renewal['number']} confermato: istruzioni per il pagamento",
            f"Ordine {renewal['number']} annullato",
        ]
    )

    async def voided() -> bool:
        return "payments.payment.voided" in await system.types("payments.payment.v1")

    await eventually(voided, what="the cancelled order's payment is voided")
    assert await events_of(system, "orders.order.v1", renewal["order_id"]) == [
        "orders.order.placed",
        "orders.order.cancelled",
    ]
    assert await events_of(system, "orders.service.v1", f"svc-{customer}") == [
        "orders.service.activated",  # the import
        "orders.service.upgraded",
    ]


async def test_storage_over_80_percent_turns_the_card_red_and_sends_one_email(
    system: System,
) -> None:
    customer, email = "c-full", "c-full@example.it"
    await import_service(
        system,
        customer,
        expiry_date=(await today(system) + timedelta(days=300)).isoformat(),
        storage_gb=2,
    )
    for version, used in enumerate((GB, 17 * GB // 10, 18 * GB // 10), start=1):
        await system.publish(
            "panel.usage.v1",
            usage_report(f"svc-{customer}", used, version, await now_of(system)),
            key=f"svc-{customer}",
        )
    await until_card(system, customer, f"svc-{customer}", storage_used_bytes=18 * GB // 10)
    card = await card_of(system, customer, f"svc-{customer}")
    assert card["storage_warning"] is True
    assert card["storage_used_percent"] == 90.0
    [subject] = await mail_subjects(system, email, 1)
    assert subject == f"Spazio quasi esaurito su {customer}@fe.example.it (85% in uso)"
    assert await events_of(system, "orders.service.v1", f"svc-{customer}") == [
        "orders.service.activated",  # the import
        "orders.service.storage_threshold_crossed",
    ]


def usage_report(service_id: str, used: int, version: int, at: datetime) -> dict[str, Any]:
    """A usage measure as the panel publishes it."""
    return {
        "event_id": f"00000000-0000-4000-8000-{version:012d}",
        "type": "panel.usage.reported",
        "schema_version": 1,
        "occurred_at": at.isoformat(),
        "producer": "panel",
        "aggregate_id": service_id,
        "aggregate_version": version,
        "correlation_id": f"usage-{service_id}-{version}",
        "causation_id": None,
        "payload": {"service_id": service_id, "used_bytes": used, "measured_at": at.isoformat()},
    }


def round_half_up(amount: Fraction) -> int:
    return math.floor(amount + Fraction(1, 2))
