"""Payments requested for placed orders, voided, paid on the provider's page, shown to their
customers; stored methods. On the in-memory stores (as ``test_payments_providers`` and
``test_payments_reconciliation`` do on the real servers)."""

from datetime import timedelta

import pytest

from rinnovo.contracts.orders import (
    CancelReason,
    OrderCancelled,
    OrderCancelledPayload,
    OrderKind,
    OrderPlaced,
)
from rinnovo.payments.service_layer import instructions, stored_methods
from rinnovo.runtime.dead_letters import PoisonMessage
from rinnovo.runtime.errors import Conflict, Invalid, NotFound
from rinnovo.runtime.events import new_event
from rinnovo.testing.payments import IBAN, PaymentsService, order_placed

CARD = {"provider_customer": "cus_1", "provider_method": "pm_1", "label": "Visa 4242"}


def cancelled(placed: OrderPlaced) -> OrderCancelled:
    p = placed.payload
    event: OrderCancelled = new_event(
        OrderCancelled,
        payload=OrderCancelledPayload(
            order_id=p.order_id,
            number=p.number,
            service_id=p.service_id,
            holder=p.holder,
            reason=CancelReason.CUSTOMER,
            total_cents=p.total_cents,
            cancelled_at=p.placed_at,
        ),
        producer="orders",
        aggregate_id=p.order_id,
        aggregate_version=2,
        occurred_at=p.placed_at,
    )
    return event


async def test_an_order_gets_one_payment_with_the_instructions_of_its_method(
    payments: PaymentsService,
) -> None:
    placed = order_placed(1, 12200)
    for _ in range(3):  # redelivered
        await instructions.request_payment(payments.ctx, placed)
    payment = await payments.payment("pay-ord-001")
    i = payment.instructions
    assert (i.kind, i.iban, i.reference, i.amount_cents) == (
        "bank_transfer",
        IBAN,
        "RN-2026-000001",
        12200,
    )
    assert payment.usual_registration_days == 2
    assert payments.types() == ["payments.payment.requested"]
    [requested] = payments.events("payments.payment.requested")
    assert requested.causation_id == str(placed.event_id)
    assert requested.correlation_id == placed.correlation_id
    with pytest.raises(PoisonMessage) as unknown:
        await instructions.request_payment(payments.ctx, order_placed(2, 100, "bitcoin"))
    assert unknown.value.kind == "unknown_payment_method"


async def test_a_fully_discounted_order_is_paid_at_once(payments: PaymentsService) -> None:
    await instructions.request_payment(payments.ctx, order_placed(1, 0))
    payment = await payments.payment("pay-ord-001")
    assert payment.status.value == "registered"
    assert payments.types() == ["payments.payment.requested", "payments.payment.registered"]
    assert [e.aggregate_version for e in payments.payments.events] == [1, 2]


async def test_an_automatic_renewal_on_a_stored_method_is_charged_not_instructed(
    payments: PaymentsService,
) -> None:
    placed = order_placed(1, 12200, "card", OrderKind.AUTOMATIC_RENEWAL)
    await instructions.request_payment(payments.ctx, placed)
    payment = await payments.payment("pay-ord-001")
    assert payment.instructions.kind == "stored_method"
    assert payment.instructions.checkout_url is not None  # to pay by hand should charges fail
    assert payment.next_attempt_at == payments.clock.now()
    manual = order_placed(2, 12200, "card")
    await instructions.request_payment(payments.ctx, manual)
    by_hand = await payments.payment("pay-ord-002")
    assert (by_hand.instructions.kind, by_hand.next_attempt_at) == ("checkout_link", None)


async def test_a_cancelled_order_voids_its_payment_once_and_a_paid_one_stays(
    payments: PaymentsService,
) -> None:
    first, second = order_placed(1, 12200), order_placed(2, 0)
    for placed in (first, second):
        await instructions.request_payment(payments.ctx, placed)
        for _ in range(2):
            await instructions.void_payment(payments.ctx, cancelled(placed))
    await instructions.void_payment(payments.ctx, cancelled(order_placed(3, 100)))  # unknown
    assert (await payments.payment("pay-ord-001")).status.value == "voided"
    assert (await payments.payment("pay-ord-002")).status.value == "registered"
    assert payments.types().count("payments.payment.voided") == 1


async def test_the_checkout_link_opens_one_session_until_it_nears_its_expiry(
    payments: PaymentsService,
) -> None:
    await instructions.request_payment(payments.ctx, order_placed(1, 12200, "card"))
    first = await instructions.checkout_url(payments.ctx, "pay-ord-001")
    assert await instructions.checkout_url(payments.ctx, "pay-ord-001") == first
    assert payments.stripe.calls == [("checkout", "checkout-pay-ord-001-1")]
    payments.clock.advance(timedelta(hours=23, minutes=55))
    fresh = await instructions.checkout_url(payments.ctx, "pay-ord-001")
    assert fresh != first
    assert payments.stripe.calls[-1] == ("checkout", "checkout-pay-ord-001-2")

    await instructions.request_payment(payments.ctx, order_placed(2, 12200))
    with pytest.raises(Conflict):  # a bank transfer has no provider's page
        await instructions.checkout_url(payments.ctx, "pay-ord-002")
    with pytest.raises(NotFound):
        await instructions.checkout_url(payments.ctx, "pay-nobody")


async def test_a_concurrent_click_gets_the_session_stored_first(
    payments: PaymentsService,
) -> None:
    await instructions.request_payment(payments.ctx, order_placed(1, 12200, "card"))
    other_click: list[str] = []

    async def click() -> None:
        other_click.append(await instructions.checkout_url(payments.ctx, "pay-ord-001"))

    # This click reads, opens the session, and another click stores it first.
    url = await instructions.checkout_url(payments.meanwhile(click), "pay-ord-001")
    assert [url] == other_click
    assert payments.stripe.calls == [("checkout", "checkout-pay-ord-001-1")]
    stored = await payments.ctx.payments.get("pay-ord-001")
    assert stored is not None and stored.version == 2  # one write of the session


async def test_customers_see_their_own_payments_only(payments: PaymentsService) -> None:
    for n in (1, 2):
        await instructions.request_payment(
            payments.ctx, order_placed(n, 100 * n, customer_id="ann")
        )
    await instructions.request_payment(payments.ctx, order_placed(3, 300, customer_id="bob"))
    mine = await instructions.payments_of(payments.ctx, "ann", None)
    assert sorted(p.order_number for p in mine) == ["RN-2026-000001", "RN-2026-000002"]
    assert await instructions.payments_of(payments.ctx, "ann", "ord-003") == []
    [bobs] = await instructions.payments_of(payments.ctx, "bob", "ord-003")
    assert bobs.amount_cents == 300
    found = await instructions.payment_of_order(payments.ctx, "RN-2026-000003")
    assert found.payment_id == "pay-ord-003"
    with pytest.raises(NotFound):
        await instructions.payment_of_order(payments.ctx, "RN-2026-999999")
    offered = [m.name for m in instructions.offered_methods(payments.ctx)]
    assert offered == ["bank_transfer", "card", "paypal", "postal_slip", "sepa_direct_debit"]


async def test_a_stored_method_is_kept_per_customer_and_method_and_replaced(
    payments: PaymentsService,
) -> None:
    ctx = payments.ctx
    await stored_methods.store_method(ctx, "ann", "card", CARD, "ann")
    await stored_methods.store_method(ctx, "ann", "card", {**CARD, "label": "Visa 1111"}, "ops")
    mandate = {**CARD, "provider_method": "pm_sepa", "mandate_reference": "MD-1", "label": "SEPA"}
    await stored_methods.store_method(ctx, "ann", "sepa_direct_debit", mandate, "ann")
    kept = await stored_methods.stored_methods_of(ctx, "ann")
    assert [(m.method, m.label, m.registered_by) for m in kept] == [
        ("card", "Visa 1111", "ops"),
        ("sepa_direct_debit", "SEPA", "ann"),
    ]
    assert await stored_methods.stored_methods_of(ctx, "bob") == []
    with pytest.raises(Invalid) as refused:
        await stored_methods.store_method(ctx, "ann", "bank_transfer", CARD, "ann")
    assert refused.value.field == "method"
