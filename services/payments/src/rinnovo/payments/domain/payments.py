"""A payment: one per order, awaiting money until it is registered, voided or given up.

The state machine is what makes registration happen once per order: only a payment that
still accepts money can be registered, and every change is a version-guarded write, so of
two concurrent confirmations one wins and the other finds the payment already registered.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

AUTOMATIC_RENEWAL = "automatic_renewal"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    REGISTERED = "registered"
    VOIDED = "voided"
    """The order was cancelled before it was paid."""
    FAILED = "failed"
    """Automatic renewal: every charge attempt failed (money may still come another way)."""


class NotPayable(Exception):
    """The payment no longer accepts money."""


@dataclass(frozen=True)
class Holder:
    customer_id: str
    name: str
    email: str
    locale: str = "it"


@dataclass(frozen=True)
class Instructions:
    """How to pay: what the confirmation e-mail and the customer area show."""

    kind: str
    reference: str
    amount_cents: int
    due_date: date
    beneficiary: str | None = None
    iban: str | None = None
    bic: str | None = None
    postal_account: str | None = None
    checkout_url: str | None = None


@dataclass(frozen=True)
class Registration:
    """The money that paid the order and what proved it."""

    source: str
    """Unique per movement of money: ``bank:<account>:<ref>``, ``stripe:<intent>``, ..."""
    kind: str
    """``statement``, ``provider``, ``stored_method`` or ``operator``."""
    amount_cents: int
    at: datetime


@dataclass(frozen=True)
class Charging:
    """Charges of a stored method (automatic renewal)."""

    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_failure: str | None = None
    in_flight: str | None = None
    """A charge the provider is still processing (SEPA debits take days)."""


@dataclass(frozen=True)
class Checkout:
    """The provider's hosted payment page currently offered for this payment."""

    session_id: str
    url: str
    expires_at: datetime
    created: int


@dataclass(frozen=True)
class Payment:
    payment_id: str
    order_id: str
    order_number: str
    order_kind: str
    service_id: str
    product_id: str
    holder: Holder
    method: str
    amount_cents: int
    instructions: Instructions
    usual_registration_days: int
    requested_at: datetime
    status: PaymentStatus = PaymentStatus.PENDING
    registration: Registration | None = None
    charging: Charging | None = None
    checkout: Checkout | None = None
    refunded_cents: int = 0
    voided_at: datetime | None = None
    failure: str | None = None

    @property
    def customer_id(self) -> str:
        return self.holder.customer_id

    @property
    def is_automatic_renewal(self) -> bool:
        return self.order_kind == AUTOMATIC_RENEWAL

    @property
    def accepts_money(self) -> bool:
        # A failed automatic renewal can still be paid by transfer until orders cancels it.
        return self.status in (PaymentStatus.PENDING, PaymentStatus.FAILED)

    @property
    def next_attempt_at(self) -> datetime | None:
        if self.status is not PaymentStatus.PENDING or self.charging is None:
            return None
        return self.charging.next_attempt_at

    @property
    def received_cents(self) -> int:
        return self.registration.amount_cents if self.registration else 0

    def register(self, registration: Registration) -> "Payment":
        if not self.accepts_money:
            raise NotPayable(f"payment {self.payment_id} is {self.status.value}")
        charging = self.charging and replace(self.charging, next_attempt_at=None, in_flight=None)
        return replace(
            self, status=PaymentStatus.REGISTERED, registration=registration, charging=charging
        )

    def void(self, at: datetime) -> "Payment":
        if not self.accepts_money:
            raise NotPayable(f"payment {self.payment_id} is {self.status.value}")
        charging = self.charging and replace(self.charging, next_attempt_at=None)
        return replace(self, status=PaymentStatus.VOIDED, voided_at=at, charging=charging)

    def refund(self, amount_cents: int) -> "Payment":
        if amount_cents <= 0:
            raise ValueError("a refund is of a positive amount")
        return replace(self, refunded_cents=self.refunded_cents + amount_cents)

    def charge_due(self, now: datetime) -> bool:
        """A charge of the stored method is to be made now."""
        due = self.next_attempt_at
        return due is not None and due <= now and self.charging is not None

    def awaits_attempt(self, attempt: int) -> bool:
        """Still waiting for the result of its ``attempt``-th charge, and nothing else."""
        charging = self.charging
        return (
            self.status is PaymentStatus.PENDING
            and charging is not None
            and charging.attempts == attempt - 1
            and charging.in_flight is None
        )

    def charge_in_flight(self, reference: str | None) -> bool:
        """The provider is still processing the charge it knows as ``reference``."""
        in_flight = self.charging.in_flight if self.charging else None
        return in_flight is not None and in_flight == reference

    def charge_counted(self, attempt: int) -> "Payment":
        """The ``attempt``-th charge has a result: no longer in flight."""
        charging = replace(self.charging or Charging(), attempts=attempt, in_flight=None)
        return replace(self, charging=charging)

    def charge_started(self, reference: str) -> "Payment":
        charging = self.charging or Charging()
        return replace(
            self,
            charging=replace(
                charging, attempts=charging.attempts + 1, next_attempt_at=None, in_flight=reference
            ),
        )

    def charge_failed(
        self, reason: str, next_attempt_at: datetime | None, counted: bool = True
    ) -> "Payment":
        """One failed attempt (``counted`` False when it was already counted as started);
        without a next attempt the payment has failed for good."""
        charging = self.charging or Charging()
        charging = replace(
            charging,
            attempts=charging.attempts + (1 if counted else 0),
            next_attempt_at=next_attempt_at,
            last_failure=reason,
            in_flight=None,
        )
        status = PaymentStatus.PENDING if next_attempt_at else PaymentStatus.FAILED
        return replace(
            self, charging=charging, status=status, failure=None if next_attempt_at else reason
        )
