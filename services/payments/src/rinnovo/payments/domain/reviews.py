"""Review items: money an operator must look at, and how each may be resolved."""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from rinnovo.payments.domain.matching import Decision, Incoming, ReviewReason
from rinnovo.payments.domain.payments import Payment, Registration


def review_id_for(source: str) -> str:
    """A review item's id: named after the money concerned, and safe in a URL, so seeing
    the same money twice opens one item."""
    return "rev-" + hashlib.sha256(source.encode()).hexdigest()[:24]


class Action(StrEnum):
    REGISTER = "register"
    """Count the money for the order, which it pays in full (a reference assigned, ...)."""
    WRITE_OFF = "write_off"
    """Less than what is due arrived: register it, and write the difference off for the
    reason given in the note."""
    REQUEST_REST = "request_rest"
    """Less than what is due arrived: keep it, and ask the customer for the rest."""
    REFUND = "refund"
    """Give the money (or the excess) back."""
    DISMISS = "dismiss"
    """Nothing to do here (handled elsewhere, or kept as credit)."""


RECEIVES = frozenset({Action.REGISTER, Action.WRITE_OFF, Action.REQUEST_REST})
"""The resolutions that count the money for an order."""

ALLOWED: dict[ReviewReason, frozenset[Action]] = {
    ReviewReason.UNDERPAYMENT: frozenset(Action) - {Action.REGISTER},
    ReviewReason.OVERPAYMENT: frozenset({Action.REFUND, Action.DISMISS}),
    ReviewReason.DUPLICATE: frozenset({Action.REFUND, Action.DISMISS}),
    ReviewReason.UNKNOWN_REFERENCE: frozenset(Action),
    ReviewReason.AMBIGUOUS_REFERENCE: frozenset(Action),
    ReviewReason.CANCELLED_ORDER: frozenset({Action.REFUND, Action.DISMISS}),
    ReviewReason.PAYMENT_REFUSED: frozenset({Action.REFUND, Action.DISMISS}),
    ReviewReason.AMOUNT_MISMATCH: frozenset({Action.REFUND, Action.DISMISS}),
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
    def __init__(self, reason: str, field: str = "action") -> None:
        super().__init__(reason)
        self.field = field


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
        if resolution.action in RECEIVES and not (resolution.order_number or self.order_number):
            raise CannotResolve("name the order number the money is for", "order_number")
        if resolution.action in RECEIVES and self.amount_cents <= 0:
            raise CannotResolve("no amount in euro cents arrived to register")
        if resolution.action is Action.WRITE_OFF and not resolution.note.strip():
            raise CannotResolve("say in the note why the difference is written off", "note")
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
        expected_cents=payment.outstanding_cents if payment else None,
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
    reason: ReviewReason = ReviewReason.PAYMENT_REFUSED,
) -> ReviewItem:
    """A registered payment orders could not apply (the order cancelled meanwhile, its
    amount not the order's, ...): one item per payment and reason."""
    registration = payment.registration if payment else None
    key = "refused" if reason is ReviewReason.PAYMENT_REFUSED else reason.value
    # A mismatch of money never registered here: not written by payments, nothing to refund.
    unreceived = reason is ReviewReason.AMOUNT_MISMATCH and registration is None
    return ReviewItem(
        review_id=review_id_for(f"{key}:{payment_id}"),
        reason=reason,
        opened_at=now,
        source=registration.source if registration else f"refused:{payment_id}",
        amount_cents=amount_cents,
        detail=f"orders could not apply the payment: {why}",
        expected_cents=payment.amount_cents if payment else None,
        refundable_cents=0 if unreceived else None,
        order_number=order_number,
        order_id=order_id,
        payment_id=payment_id,
    )


def cancelled_parts_reviews(payment: Payment, now: datetime) -> list[ReviewItem]:
    """The money kept of a payment whose order was cancelled before the rest arrived."""
    return [
        ReviewItem(
            review_id=review_id_for(f"cancelled:{part.source}"),
            reason=ReviewReason.CANCELLED_ORDER,
            opened_at=now,
            source=part.source,
            amount_cents=part.amount_cents,
            detail="part of the order's amount, kept; the order was cancelled before the rest",
            expected_cents=payment.amount_cents,
            order_number=payment.order_number,
            order_id=payment.order_id,
            payment_id=payment.payment_id,
        )
        for part in payment.parts
    ]


def received_by_operator(payment: Payment, item: ReviewItem, now: datetime) -> Payment:
    """The payment once the operator's resolution of ``item`` counts its money for it:
    registered when it pays what is still due; less than that is written off or kept
    while the rest is asked for, as the operator chose."""
    resolution = item.resolution
    assert resolution is not None and resolution.action in RECEIVES
    money = Registration(item.source, "operator", item.amount_cents, now)
    due = payment.outstanding_cents
    if resolution.action is Action.REGISTER:
        if money.amount_cents < due:
            raise CannotResolve(
                f"{money.amount_cents} of the {due} cents due arrived: write off the "
                "difference or request the rest"
            )
        return payment.register(money)
    if money.amount_cents >= due:
        raise CannotResolve(f"the {due} cents due arrived: register it")
    if resolution.action is Action.WRITE_OFF:
        written_off = replace(
            money, written_off_cents=due - money.amount_cents, write_off_reason=resolution.note
        )
        return payment.register(written_off)
    return payment.take_part(money)
