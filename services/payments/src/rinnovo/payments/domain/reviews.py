"""Review items: money an operator must look at, and how each may be resolved."""

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from rinnovo.payments.domain.matching import ReviewReason


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
