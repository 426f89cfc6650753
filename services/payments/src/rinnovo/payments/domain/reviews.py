"""Review items: money an operator must look at, and how each may be resolved."""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from rinnovo.payments.domain.matching import Decision, Incoming, ReviewReason
from rinnovo.payments.domain.payments import Payment


def review_id_for(source: str) -> str:
    """A review item's id: named after the money concerned, and safe in a URL, so seeing
    the same money twice opens one item."""
    return "rev-" + hashlib.sha256(source.encode()).hexdigest()[:24]


class Action(StrEnum):
    REGISTER = "register"
    """Count the money for the order (an under-payment accepted, a reference assigned)."""
    REFUND = "refund"
    """Give the money (or the excess) back."""
    DISMISS = "dismiss"
    """Nothing to do here (handled elsewhere, or kept as credit)."""


ALLOWED: dict[ReviewReason, frozenset[Action]] = {
    ReviewReason.UNDERPAYMENT: frozenset(Action),
    ReviewReason.OVERPAYMENT: frozenset({Action.REFUND, Action.DISMISS}),
    ReviewReason.DUPLICATE: frozenset({Action.REFUND, Action.DISMISS}),
    ReviewReason.UNKNOWN_REFERENCE: frozenset(Action),
    ReviewReason.AMBIGUOUS_REFERENCE: frozenset(Action),
    ReviewReason.CANCELLED_ORDER: frozenset({Action.REFUND, Action.DISMISS}),
    ReviewReason.PAYMENT_REFUSED: frozenset({Action.REFUND, Action.DISMISS}),
    # Its value in euro is unknown: the operator settles it with the bank, then dismisses it.
    ReviewReason.FOREIGN_CURRENCY: frozenset({Action.DISMISS}),
    ReviewReason.UNUSABLE_AMOUNT: frozenset(Action),
}


DETAILS = {
    ReviewReason.UNDERPAYMENT: "less than the order's amount arrived",
    ReviewReason.OVERPAYMENT: "more than the order's amount arrived; the order is paid",
    ReviewReason.DUPLICATE: "the order was already paid",
    ReviewReason.UNKNOWN_REFERENCE: "no order of ours is quoted",
    ReviewReason.AMBIGUOUS_REFERENCE: "several orders are quoted",
    ReviewReason.CANCELLED_ORDER: "the order was cancelled before this arrived",
}


class ReviewStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class CannotResolve(Exception):
    pass


@dataclass(frozen=True)
class Resolution:
    action: Action
    by: str
    at: datetime
    note: str = ""
    order_number: str | None = None
    """The order the money is registered for, when the operator assigns it."""


@dataclass(frozen=True)
class MoneyContext:
    """What an operator reviewing the money needs to see."""

    remittance: str | None = None
    payer: str | None = None
    booked_on: str | None = None


@dataclass(frozen=True)
class ReviewItem:
    review_id: str
    reason: ReviewReason
    opened_at: datetime
    source: str
    """The money concerned (see ``Registration.source``)."""
    amount_cents: int
    """What arrived."""
    detail: str
    expected_cents: int | None = None
    refundable_cents: int | None = None
    """What a refund gives back: the excess of an over-payment, else everything."""
    order_number: str | None = None
    order_id: str | None = None
    payment_id: str | None = None
    remittance: str | None = None
    payer: str | None = None
    booked_on: str | None = None
    status: ReviewStatus = ReviewStatus.OPEN
    resolution: Resolution | None = None
    applied: bool = False
    """The resolution's effect on the payment is done (it follows the resolution)."""

    @property
    def refund_cents(self) -> int:
        return self.amount_cents if self.refundable_cents is None else self.refundable_cents

    def resolve(self, resolution: Resolution) -> "ReviewItem":
        if self.status is not ReviewStatus.OPEN:
            raise CannotResolve(f"review {self.review_id} is already resolved")
        allowed = ALLOWED[self.reason]
        if resolution.action not in allowed:
            names = ", ".join(sorted(a.value for a in allowed))
            raise CannotResolve(f"a {self.reason.value} can be resolved with: {names}")
        if resolution.action is Action.REGISTER and not (
            resolution.order_number or self.order_number
        ):
            raise CannotResolve("name the order number the money is for")
        if resolution.action is Action.REGISTER and self.amount_cents <= 0:
            raise CannotResolve("no amount in euro cents arrived to register")
        if resolution.action is Action.REFUND and self.refund_cents <= 0:
            raise CannotResolve("there is nothing to refund")
        return replace(self, status=ReviewStatus.RESOLVED, resolution=resolution)

    def reopened(self) -> "ReviewItem":
        """Open again: its resolution could not take effect."""
        return replace(self, status=ReviewStatus.OPEN, resolution=None, applied=False)

    def left_unapplied(self, before: datetime) -> bool:
        """Resolved before ``before`` and its effect never recorded (a crash between)."""
        resolution = self.resolution
        return resolution is not None and not self.applied and resolution.at < before


def money_review(
    decision: Decision,
    payment: Payment | None,
    incoming: Incoming,
    context: MoneyContext,
    now: datetime,
) -> ReviewItem:
    """The review item of money that ``decision`` sends to review."""
    assert decision.review is not None
    reason = decision.review
    return ReviewItem(
        review_id=review_id_for(incoming.source),
        reason=reason,
        opened_at=now,
        source=incoming.source,
        amount_cents=incoming.amount_cents,
        detail=DETAILS.get(reason, reason.value),
        expected_cents=payment.amount_cents if payment else None,
        refundable_cents=decision.excess_cents if decision.excess_cents else None,
        order_number=payment.order_number if payment else None,
        order_id=payment.order_id if payment else None,
        payment_id=payment.payment_id if payment else None,
        remittance=context.remittance,
        payer=context.payer,
        booked_on=context.booked_on,
    )


def refused_review(
    payment_id: str,
    order_id: str,
    order_number: str,
    amount_cents: int,
    why: str,
    payment: Payment | None,
    now: datetime,
) -> ReviewItem:
    """A registered payment orders could not apply (the order cancelled meanwhile, ...)."""
    registration = payment.registration if payment else None
    return ReviewItem(
        review_id=review_id_for(f"refused:{payment_id}"),
        reason=ReviewReason.PAYMENT_REFUSED,
        opened_at=now,
        source=registration.source if registration else f"refused:{payment_id}",
        amount_cents=amount_cents,
        detail=f"orders could not apply the payment: {why}",
        expected_cents=payment.amount_cents if payment else None,
        order_number=order_number,
        order_id=order_id,
        payment_id=payment_id,
    )
