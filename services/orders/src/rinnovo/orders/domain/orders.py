"""Orders: placed awaiting payment, then paid or cancelled; never both, never twice."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from rinnovo.orders.domain.pricing import OrderKind, Quote
from rinnovo.orders.domain.subscription import AutoRenewal
from rinnovo.runtime.clock import end_of_rome_day

RENEWAL_KINDS = frozenset({OrderKind.RENEWAL, OrderKind.REACTIVATION, OrderKind.AUTOMATIC_RENEWAL})


class OrderStatus(StrEnum):
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    CANCELLED = "cancelled"


class OrderConflict(Exception):
    """The order is not in a state that allows this (e.g. cancelling a paid order)."""


@dataclass(frozen=True)
class Acceptance:
    """One document the customer accepted at checkout: which, which version, when."""

    document: str
    version: str
    accepted_at: datetime


@dataclass(frozen=True)
class Order:
    order_id: str
    number: str
    customer_id: str
    subscription_id: str
    kind: OrderKind
    status: OrderStatus
    placed_at: datetime
    payment_due: date
    payment_method: str
    quote: Quote
    catalog_product_version: int
    acceptances: tuple[Acceptance, ...]
    automatic_renewal: AutoRenewal | None = None
    """Automatic renewal as chosen in the cart; applied to the service when paid."""
    convention_code: str | None = None
    paid_at: datetime | None = None
    payment_id: str | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None

    @property
    def open_slot(self) -> str:
        """Equal for every open renewal or reactivation of one service: a unique index on it
        allows at most one such order awaiting payment per service."""
        if self.status is OrderStatus.AWAITING_PAYMENT and self.kind in RENEWAL_KINDS:
            return f"{self.subscription_id}:renewal"
        return self.order_id

    @property
    def cancel_unpaid_at(self) -> datetime | None:
        """Unpaid at the end of the payment due day (Rome), the order is cancelled."""
        if self.status is not OrderStatus.AWAITING_PAYMENT:
            return None
        return end_of_rome_day(self.payment_due)

    @property
    def can_pay(self) -> bool:
        return self.status is OrderStatus.AWAITING_PAYMENT

    @property
    def can_cancel(self) -> bool:
        return self.status is OrderStatus.AWAITING_PAYMENT

    def cancel(self, at: datetime, reason: str) -> "Order":
        if self.status is not OrderStatus.AWAITING_PAYMENT:
            raise OrderConflict(
                f"order {self.number} is {self.status.value}; it cannot be cancelled"
            )
        return replace(self, status=OrderStatus.CANCELLED, cancelled_at=at, cancel_reason=reason)

    def pay(self, payment_id: str, at: datetime) -> "Order":
        if self.status is not OrderStatus.AWAITING_PAYMENT:
            raise OrderConflict(f"order {self.number} is {self.status.value}; it cannot be paid")
        return replace(self, status=OrderStatus.PAID, paid_at=at, payment_id=payment_id)
