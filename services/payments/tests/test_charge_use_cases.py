"""Automatic-renewal charges and provider callbacks on the in-memory stores (as
``test_payments_providers`` does on the real servers): charged once per attempt whatever
crashes or repeats, retried on the product's schedule, confirmed by signed callbacks once."""

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from rinnovo.contracts.orders import OrderKind
from rinnovo.payments.entrypoints.scheduler import ChargeScheduler
from rinnovo.payments.methods.base import BadCallback
from rinnovo.payments.service_layer import callbacks, instructions, stored_methods
from rinnovo.runtime.changes import Changes
from rinnovo.runtime.errors import NotFound
from rinnovo.testing.payment_providers import checkout_completed
from rinnovo.testing.payments import PaymentsService, order_placed

CARD = {"provider_customer": "cus_1", "provider_method": "pm_1", "label": "Visa 4242"}
MANDATE = {**CARD, "provider_method": "pm_sepa", "label": "SEPA", "mandate_reference": "MD-1"}
ID = "pay-ord-001"


async def renewal_due(payments: PaymentsService, method: str = "card") -> None:
    """An automatic renewal of customer c001 on a stored ``method``: its charge is due now."""
    details = MANDATE if method == "sepa_direct_debit" else CARD
    await stored_methods.store_method(payments.ctx, "c001", method, details, "c001")
    placed = order_placed(1, 12200, method, OrderKind.AUTOMATIC_RENEWAL)
    await instructions.request_payment(payments.ctx, placed)


def intent_event(kind: str, intent: str, amount_cents: int | None = None) -> bytes:
    """Stripe's ``payment_intent.succeeded`` or ``payment_intent.payment_failed``."""
    obj: dict[str, Any] = {
        "id": intent,
        "object": "payment_intent",
        "metadata": {"payment_id": ID},
        "amount_received": amount_cents,
        "last_payment_error": {"message": "The bank refused the debit."},
    }
    return json.dumps(
        {"id": f"evt_{kind}_{intent}", "type": kind, "data": {"object": obj}}
    ).encode()


async def test_a_declined_charge_is_retried_a_day_later_and_registers_once(
    payments: PaymentsService,
) -> None:
    payments.stripe.charges = ["decline", "succeed"]
    await renewal_due(payments)
    scheduler = payments.scheduler()
    assert await scheduler.sweep() == 1
    assert await scheduler.sweep() == 0  # not due again before the retry
    failed = await payments.payment(ID)
    assert failed.charging is not None and failed.charging.attempts == 1
    [first] = payments.events("payments.payment.charge_attempted")
    assert (first.payload.succeeded, first.payload.reason) == (
        False,
        "Your card has insufficient funds.",
    )
    assert first.payload.next_attempt_on is not None

    payments.clock.advance(timedelta(days=1, minutes=1))  # the seed product retries after 1 day
    assert await scheduler.sweep() == 1
    assert await scheduler.sweep() == 0
    assert payments.types() == [
        "payments.payment.requested",
        "payments.payment.charge_attempted",
        "payments.payment.charge_attempted",
        "payments.payment.registered",
    ]
    registered = payments.events("payments.payment.registered")[0].payload
    assert (registered.source, registered.amount_cents) == ("stored_method", 12200)
    assert [k for what, k in payments.stripe.calls if what == "charge"] == [
        f"{ID}-attempt-1",
        f"{ID}-attempt-2",
    ]


async def test_every_attempt_failing_fails_the_payment_and_says_so(
    payments: PaymentsService,
) -> None:
    payments.stripe.charges = ["decline"] * 4
    await renewal_due(payments)
    scheduler = payments.scheduler()
    for _ in range(6):
        await scheduler.sweep()
        payments.clock.advance(timedelta(days=7))
    failed = await payments.payment(ID)
    assert failed.status.value == "failed"
    attempts = payments.events("payments.payment.charge_attempted")
    assert [e.payload.attempt for e in attempts] == [1, 2, 3, 4]
    [gave_up] = payments.events("payments.payment.failed")
    assert gave_up.payload.attempts == 4


class StopsWriting:
    """The payments' store, but the process stops at its next write."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def write(self, writes: Any) -> Any:
        raise ConnectionError("the process stopped")


async def test_a_crash_after_charging_makes_the_same_attempt_which_charges_once(
    payments: PaymentsService,
) -> None:
    payments.stripe.charges = ["succeed"]
    await renewal_due(payments)
    stopping = replace(payments.ctx, payments=Changes(StopsWriting(payments.payments)))
    with pytest.raises(ConnectionError):  # charged; the result never written
        await ChargeScheduler(stopping).sweep()
    assert await payments.scheduler().sweep() == 0  # claimed until the lease runs out
    payments.clock.advance(timedelta(minutes=3))
    assert await payments.scheduler().sweep() == 1
    assert payments.stripe.calls == [("charge", f"{ID}-attempt-1")]  # the first answer again
    assert payments.types().count("payments.payment.registered") == 1
    charged = await payments.payment(ID)
    assert charged.charging is not None and charged.charging.attempts == 1


async def test_a_provider_away_postpones_the_same_attempt(payments: PaymentsService) -> None:
    payments.stripe.charges = ["unavailable", "succeed"]
    await renewal_due(payments)
    assert await payments.scheduler().sweep() == 1
    assert payments.types() == ["payments.payment.requested"]  # nothing recorded
    payments.clock.advance(timedelta(minutes=3))
    assert await payments.scheduler().sweep() == 1
    assert (await payments.payment(ID)).status.value == "registered"


async def test_without_a_stored_method_an_attempt_fails(payments: PaymentsService) -> None:
    placed = order_placed(1, 12200, "card", OrderKind.AUTOMATIC_RENEWAL)
    await instructions.request_payment(payments.ctx, placed)
    assert await payments.scheduler().sweep() == 1
    [attempt] = payments.events("payments.payment.charge_attempted")
    assert attempt.payload.reason == "no stored payment method"
    assert payments.stripe.calls == []


async def test_a_sepa_debit_is_finished_by_its_callback_once(payments: PaymentsService) -> None:
    payments.stripe.charges = ["processing"]
    await renewal_due(payments, "sepa_direct_debit")
    assert await payments.scheduler().sweep() == 1
    in_flight = await payments.payment(ID)
    assert in_flight.charging is not None and in_flight.charging.in_flight == "pi_test_0"
    assert in_flight.next_attempt_at is None  # nothing more is charged meanwhile

    body = intent_event("payment_intent.succeeded", "pi_test_0", 12200)
    outcomes = [
        await callbacks.provider_callback(payments.ctx, "stripe", body, payments.signed(body))
        for _ in range(3)
    ]
    assert outcomes == ["registered", "already processed", "already processed"]
    paid = await payments.payment(ID)
    assert paid.status.value == "registered" and paid.charging is not None
    assert (paid.charging.attempts, paid.charging.in_flight) == (1, None)
    attempted = payments.events("payments.payment.charge_attempted")
    assert [(e.payload.attempt, e.payload.succeeded) for e in attempted] == [(1, True)]


async def test_a_refused_sepa_debit_is_tried_again_on_schedule(payments: PaymentsService) -> None:
    payments.stripe.charges = ["processing", "succeed"]
    await renewal_due(payments, "sepa_direct_debit")
    await payments.scheduler().sweep()
    body = intent_event("payment_intent.payment_failed", "pi_test_0")
    assert (
        await callbacks.provider_callback(payments.ctx, "stripe", body, payments.signed(body))
        == "charge failed"
    )
    failed = await payments.payment(ID)
    assert failed.charging is not None and failed.charging.attempts == 1  # counted once
    assert failed.charging.last_failure == "The bank refused the debit."
    payments.clock.advance(timedelta(days=1, minutes=1))
    assert await payments.scheduler().sweep() == 1
    assert (await payments.payment(ID)).status.value == "registered"


async def test_a_signed_callback_registers_once_and_anything_not_genuine_is_refused(
    payments: PaymentsService,
) -> None:
    await instructions.request_payment(payments.ctx, order_placed(1, 12200, "card"))
    body = checkout_completed(ID, 12200, "pi_test_paid")
    ctx = payments.ctx
    with pytest.raises(BadCallback):
        await callbacks.provider_callback(ctx, "stripe", body, {"stripe-signature": "t=1,v1=x"})
    stale = payments.signed(body, payments.clock.now() - timedelta(hours=1))
    with pytest.raises(BadCallback):
        await callbacks.provider_callback(ctx, "stripe", body, stale)
    with pytest.raises(NotFound):
        await callbacks.provider_callback(ctx, "paypal-direct", body, payments.signed(body))
    assert (await payments.payment(ID)).status.value == "pending"

    outcomes = [
        await callbacks.provider_callback(ctx, "stripe", body, payments.signed(body))
        for _ in range(3)
    ]
    assert outcomes == ["registered", "already processed", "already processed"]
    # The same payment confirmed by another event of Stripe's: counted already.
    other = checkout_completed(ID, 12200, "pi_test_paid")
    assert await callbacks.provider_callback(ctx, "stripe", other, payments.signed(other)) == (
        "already registered"
    )
    assert payments.types() == ["payments.payment.requested", "payments.payment.registered"]
    unknown = checkout_completed("pay-nobody", 500, "pi_test_lost")
    assert (
        await callbacks.provider_callback(ctx, "stripe", unknown, payments.signed(unknown))
        == "unknown_reference"
    )
    [review] = await payments.open_reviews()
    assert (review.source, review.amount_cents) == ("stripe:pi_test_lost", 500)
