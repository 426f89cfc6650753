"""Review items resolved by operators, on the in-memory stores (as
``test_payments_reconciliation`` does on the real servers): register, refund or dismiss,
each once, and a resolution a crash interrupted is finished by the scheduler."""

from datetime import timedelta

import pytest

from rinnovo.contracts.orders import (
    OrderPaymentRefused,
    OrderPaymentRefusedPayload,
    PaymentRefusedReason,
)
from rinnovo.payments.domain.reviews import Action, Resolution, ReviewItem, ReviewStatus
from rinnovo.payments.service_layer import instructions, reconciliation, reviews
from rinnovo.payments.service_layer.callbacks import provider_callback
from rinnovo.runtime.changes import Decision
from rinnovo.runtime.errors import Conflict, Invalid, NotFound
from rinnovo.runtime.events import new_event
from rinnovo.testing.payment_providers import camt053, checkout_completed
from rinnovo.testing.payments import PaymentsService, order_placed, statement


async def reviewed(
    payments: PaymentsService, *credits: tuple[str, int, str]
) -> dict[str, ReviewItem]:
    """Three orders of 122 € awaiting a transfer, a statement with ``credits``, and the
    review items it opened, by reason."""
    for n in (1, 2, 3):
        await instructions.request_payment(payments.ctx, order_placed(n, 12200))
    entries = [(ref, cents, "CRDT", text) for ref, cents, text in credits]
    await reconciliation.import_statement(payments.ctx, statement(camt053("S", entries)), "ops")
    return {r.reason.value: r for r in await payments.open_reviews()}


async def test_an_operator_registers_refunds_and_dismisses_each_once(
    payments: PaymentsService,
) -> None:
    opened = await reviewed(
        payments,
        ("B-1", 12100, "RN-2026-000001"),
        ("B-2", 12700, "RN-2026-000002"),
        ("B-3", 5000, "fattura 77"),
    )
    under, over, unknown = (opened[r] for r in ("underpayment", "overpayment", "unknown_reference"))
    ctx = payments.ctx
    done = await reviews.resolve_review(ctx, under.review_id, Action.REGISTER, "ops", "ok", None)
    assert (done.status, done.applied, done.resolution and done.resolution.by) == (
        ReviewStatus.RESOLVED,
        True,
        "ops",
    )
    await reviews.resolve_review(ctx, over.review_id, Action.REFUND, "ops", "", None)
    await reviews.resolve_review(ctx, unknown.review_id, Action.DISMISS, "ops", "not ours", None)
    with pytest.raises(Conflict):
        await reviews.resolve_review(ctx, over.review_id, Action.DISMISS, "ops", "", None)
    with pytest.raises(NotFound):
        await reviews.resolve_review(ctx, "rev-nobody", Action.DISMISS, "ops", "", None)

    first = await payments.payment("pay-ord-001")
    assert first.registration is not None
    assert (first.registration.kind, first.registration.amount_cents) == ("operator", 12100)
    second = await payments.payment("pay-ord-002")
    assert second.refunded_cents == 500
    [refunded] = payments.events("payments.payment.refunded")
    assert (refunded.aggregate_id, refunded.payload.amount_cents) == ("pay-ord-002", 500)
    assert payments.types().count("payments.payment.registered") == 2
    assert await payments.open_reviews() == []
    resolved = await reviews.review_items(ctx, ReviewStatus.RESOLVED)
    assert len(resolved) == 3 and all(r.applied for r in resolved)
    assert len(await reviews.review_items(ctx, None)) == 3


async def test_a_resolution_that_does_not_fit_is_refused_and_changes_nothing(
    payments: PaymentsService,
) -> None:
    opened = await reviewed(
        payments,
        ("B-1", 12200, "RN-2026-000001"),
        ("B-2", 12200, "RN-2026-000001 again"),
        ("B-3", 5000, "fattura 77"),
    )
    duplicate, unknown = opened["duplicate"], opened["unknown_reference"]
    ctx = payments.ctx
    with pytest.raises(Invalid) as wrong:  # a duplicate is refunded or dismissed
        await reviews.resolve_review(ctx, duplicate.review_id, Action.REGISTER, "ops", "", None)
    assert wrong.value.field == "action"
    with pytest.raises(Invalid) as nowhere:
        await reviews.resolve_review(ctx, unknown.review_id, Action.REGISTER, "ops", "", "RN-1")
    assert nowhere.value.field == "order_number"
    with pytest.raises(Conflict):  # the order is paid: it takes no more money
        await reviews.resolve_review(
            ctx, unknown.review_id, Action.REGISTER, "ops", "", "RN-2026-000001"
        )
    assert len(await payments.open_reviews()) == 2
    # Assigned to an order still awaiting its money, it registers it.
    await reviews.resolve_review(
        ctx, unknown.review_id, Action.REGISTER, "ops", "", "RN-2026-000003"
    )
    third = await payments.payment("pay-ord-003")
    assert third.registration is not None and third.registration.amount_cents == 5000


async def test_a_registration_that_cannot_take_effect_reopens_the_item(
    payments: PaymentsService,
) -> None:
    unknown = (await reviewed(payments, ("B-3", 5000, "fattura 77")))["unknown_reference"]
    ctx = payments.ctx

    async def paid_meanwhile() -> None:  # the order is paid between the check and the write
        body = checkout_completed("pay-ord-002", 12200, "pi_2")
        await instructions.request_payment(ctx, order_placed(2, 12200))
        await provider_callback(ctx, "stripe", body, payments.signed(body))

    racing = payments.meanwhile(paid_meanwhile)
    with pytest.raises(Conflict):
        await reviews.resolve_review(
            racing, unknown.review_id, Action.REGISTER, "ops", "", "RN-2026-000002"
        )
    [reopened] = await payments.open_reviews()
    assert (reopened.review_id, reopened.resolution) == (unknown.review_id, None)


async def test_a_payment_orders_refused_goes_to_review_and_is_refunded(
    payments: PaymentsService,
) -> None:
    await instructions.request_payment(payments.ctx, order_placed(1, 12200, "card"))
    body = checkout_completed("pay-ord-001", 12200, "pi_1")
    await provider_callback(payments.ctx, "stripe", body, payments.signed(body))
    refused = new_event(
        OrderPaymentRefused,
        payload=OrderPaymentRefusedPayload(
            order_id="ord-001",
            number="RN-2026-000001",
            service_id="svc-001",
            payment_id="pay-ord-001",
            amount_cents=12200,
            reason=PaymentRefusedReason.ORDER_CANCELLED,
        ),
        producer="orders",
        aggregate_id="ord-001",
        aggregate_version=3,
        occurred_at=payments.clock.now(),
    )
    for _ in range(2):  # redelivered
        await reviews.payment_refused(payments.ctx, refused)
    [item] = await payments.open_reviews()
    assert (item.reason.value, item.source, item.expected_cents) == (
        "payment_refused",
        "stripe:pi_1",
        12200,
    )
    await reviews.resolve_review(payments.ctx, item.review_id, Action.REFUND, "ops", "", None)
    assert payments.stripe.refunds == [("pi_1", 12200)]
    assert (await payments.payment("pay-ord-001")).refunded_cents == 12200


async def test_a_resolution_interrupted_by_a_crash_is_applied_by_the_scheduler(
    payments: PaymentsService,
) -> None:
    under = (await reviewed(payments, ("B-1", 12100, "RN-2026-000001")))["underpayment"]
    ctx = payments.ctx
    # The resolution was stored, then the process stopped before its effect.
    read = await ctx.reviews.get(under.review_id)
    assert read is not None
    resolution = Resolution(Action.REGISTER, "ops", payments.clock.now(), "", None)
    await ctx.reviews.change(under.review_id, lambda s: Decision(s.value.resolve(resolution)))
    assert await payments.scheduler().sweep() == 0
    assert (await payments.payment("pay-ord-001")).status.value == "pending"  # not yet: a minute
    payments.clock.advance(timedelta(minutes=2))
    await payments.scheduler().sweep()
    await payments.scheduler().sweep()  # once
    assert (await payments.payment("pay-ord-001")).status.value == "registered"
    assert payments.types().count("payments.payment.registered") == 1
    [done] = await reviews.review_items(ctx, ReviewStatus.RESOLVED)
    assert done.applied
