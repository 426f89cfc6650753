"""Money arriving for an order: registered once, or reviewed; never dropped, never doubled."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from rinnovo.payments.domain.matching import (
    Decision,
    Incoming,
    ReviewReason,
    decide,
    order_numbers_in,
)
from rinnovo.payments.domain.payments import Holder, Instructions, Payment, Registration
from rinnovo.payments.domain.retries import next_attempt_at
from rinnovo.payments.domain.reviews import Action, CannotResolve, Resolution, ReviewItem

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def a_payment(**changes: object) -> Payment:
    payment = Payment(
        payment_id="pay-o1",
        order_id="o1",
        order_number="RN-2026-000001",
        order_kind="renewal",
        service_id="s1",
        product_id="fe-standard",
        holder=Holder("c1", "Studio Rossi", "rossi@example.it"),
        method="bank_transfer",
        amount_cents=12200,
        instructions=Instructions("bank_transfer", "RN-2026-000001", 12200, date(2026, 4, 1)),
        usual_registration_days=2,
        requested_at=NOW,
    )
    return replace(payment, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("Rinnovo ordine RN-2026-000123", ["RN-2026-000123"]),
        ("rn 2026 000123 saldo", ["RN-2026-000123"]),
        ("RN2026000123/RN-2026-000124", ["RN-2026-000123", "RN-2026-000124"]),
        ("RN-2026-0001234", []),  # seven digits: not one of ours
        ("fattura 42", []),
    ],
)
def test_order_numbers_are_found_in_remittance_text(text: str, numbers: list[str]) -> None:
    assert order_numbers_in(text) == numbers


def test_exact_amount_registers() -> None:
    assert decide(a_payment(), Incoming("bank:a:1", 12200)) == Decision(True)


def test_less_goes_to_review_more_registers_and_reviews_the_excess() -> None:
    assert decide(a_payment(), Incoming("bank:a:1", 12000)).review is ReviewReason.UNDERPAYMENT
    over = decide(a_payment(), Incoming("bank:a:1", 12500))
    assert over == Decision(True, ReviewReason.OVERPAYMENT, 300)


def test_second_money_for_a_paid_order_is_a_duplicate_the_same_money_is_nothing() -> None:
    paid = a_payment().register(Registration("bank:a:1", "statement", 12200, NOW))
    assert decide(paid, Incoming("bank:a:2", 12200)).review is ReviewReason.DUPLICATE
    assert decide(paid, Incoming("bank:a:1", 12200)).nothing_to_do


def test_money_for_a_cancelled_order_or_no_order_is_reviewed() -> None:
    voided = a_payment().void(NOW)
    assert decide(voided, Incoming("bank:a:1", 12200)).review is ReviewReason.CANCELLED_ORDER
    assert decide(None, Incoming("bank:a:1", 12200)).review is ReviewReason.UNKNOWN_REFERENCE


def test_retries_follow_the_schedule_and_stop_before_the_due_day_ends() -> None:
    due = date(2026, 4, 1)
    assert next_attempt_at(NOW, 1, (1, 3, 7), due) == NOW + timedelta(days=1)
    assert next_attempt_at(NOW, 3, (1, 3, 7), due) == NOW + timedelta(days=7)
    assert next_attempt_at(NOW, 4, (1, 3, 7), due) is None
    assert next_attempt_at(NOW, 1, (1,), date(2026, 3, 2)) is None


def test_a_review_is_resolved_once_and_only_as_its_reason_allows() -> None:
    item = ReviewItem("r1", ReviewReason.DUPLICATE, NOW, "bank:a:2", 12200, "paid twice")
    with pytest.raises(CannotResolve):
        item.resolve(Resolution(Action.REGISTER, "ops", NOW, order_number="RN-2026-000001"))
    done = item.resolve(Resolution(Action.REFUND, "ops", NOW))
    with pytest.raises(CannotResolve):
        done.resolve(Resolution(Action.DISMISS, "ops", NOW))
