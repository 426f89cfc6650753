"""What to do with money that arrives for an order: register it, or have an operator look.

Nothing is dropped and nothing is counted twice: an exact payment registers; anything else
opens a review item. An over-payment registers the order (the customer paid at least what
was due, so the service should not wait) and opens a review of the excess, which an
operator refunds or keeps.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from rinnovo.payments.domain.payments import Payment, PaymentStatus

_ORDER_NUMBER = re.compile(r"RN[\s\-/_.]*(\d{4})[\s\-/_.]*(\d{6})(?!\d)", re.IGNORECASE)


def order_numbers_in(text: str) -> list[str]:
    """Order numbers (``RN-2026-000123``) quoted in a remittance text, in canonical form,
    tolerating the spaces and separators that banks and customers put in or take out."""
    found: list[str] = []
    for year, sequence in _ORDER_NUMBER.findall(text):
        number = f"RN-{year}-{sequence}"
        if number not in found:
            found.append(number)
    return found


class ReviewReason(StrEnum):
    UNDERPAYMENT = "underpayment"
    OVERPAYMENT = "overpayment"
    DUPLICATE = "duplicate"
    UNKNOWN_REFERENCE = "unknown_reference"
    AMBIGUOUS_REFERENCE = "ambiguous_reference"
    CANCELLED_ORDER = "cancelled_order"
    PAYMENT_REFUSED = "payment_refused"
    """Registered, but orders could not apply it (order cancelled meanwhile, ...)."""
    FOREIGN_CURRENCY = "foreign_currency"
    """A credit in another currency than the euro: its value in euro is not known here."""
    UNUSABLE_AMOUNT = "unusable_amount"
    """A credit without an amount in whole euro cents (none given, a fraction of a cent,
    transactions that do not add up to their entry)."""


@dataclass(frozen=True)
class Incoming:
    source: str
    amount_cents: int


@dataclass(frozen=True)
class Decision:
    register: bool
    review: ReviewReason | None = None
    excess_cents: int = 0

    @property
    def nothing_to_do(self) -> bool:
        return not self.register and self.review is None


ALREADY_COUNTED = Decision(register=False)


def decide(payment: Payment | None, incoming: Incoming) -> Decision:
    if payment is None:
        return Decision(False, ReviewReason.UNKNOWN_REFERENCE)
    if payment.registration is not None and payment.registration.source == incoming.source:
        return ALREADY_COUNTED  # the same money seen again (a redelivery, a re-import)
    if payment.status is PaymentStatus.VOIDED:
        return Decision(False, ReviewReason.CANCELLED_ORDER)
    if payment.status is PaymentStatus.REGISTERED:
        return Decision(False, ReviewReason.DUPLICATE)
    if incoming.amount_cents < payment.amount_cents:
        return Decision(False, ReviewReason.UNDERPAYMENT)
    if incoming.amount_cents > payment.amount_cents:
        excess = incoming.amount_cents - payment.amount_cents
        return Decision(True, ReviewReason.OVERPAYMENT, excess)
    return Decision(True)
