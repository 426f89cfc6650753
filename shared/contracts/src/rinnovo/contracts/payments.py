"""Payments events that other services act on."""

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, Field

from rinnovo.contracts.envelope import Cents, Contract, Event, NonEmpty, version
from rinnovo.contracts.orders import Holder, OrderKind
from rinnovo.contracts.topic_spec import TopicSpec


class PaymentRegisteredPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    order_number: NonEmpty
    method: NonEmpty = Field(description="The payment-method plugin, e.g. `bank_transfer`.")
    amount_cents: Cents
    registered_at: AwareDatetime
    source: str | None = Field(
        default=None,
        description="What proved the money: `statement`, `provider`, `stored_method`, `operator`.",
    )
    written_off_cents: Cents | None = Field(
        default=None,
        description="What an operator wrote off of an under-payment (with a reason, shown by "
        "payments): `amount_cents` and this make the order's total. None: nothing written off.",
    )


class PaymentRegistered(Event):
    """Money for an order has been received; emitted once per order. ``amount_cents`` is
    every cent received for it (parts kept while the rest was asked for included)."""

    type: Literal["payments.payment.registered"] = "payments.payment.registered"
    schema_version: int = version(2)
    payload: PaymentRegisteredPayload


class InstructionsKind(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    POSTAL_SLIP = "postal_slip"
    CHECKOUT_LINK = "checkout_link"
    STORED_METHOD = "stored_method"


class PaymentInstructions(Contract):
    """How the customer pays; what the order confirmation e-mail shows."""

    kind: InstructionsKind
    reference: NonEmpty = Field(description="To quote with the payment: the order number.")
    amount_cents: Cents
    due_date: date
    beneficiary: str | None = None
    iban: str | None = Field(default=None, description="Bank transfer.")
    bic: str | None = None
    postal_account: str | None = Field(default=None, description="Postal slip (conto corrente).")
    checkout_url: str | None = Field(default=None, description="Card/PayPal: where to pay.")


class PaymentRequestedPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    order_number: NonEmpty
    order_kind: OrderKind
    service_id: NonEmpty
    holder: Holder
    method: NonEmpty
    amount_cents: Cents
    instructions: PaymentInstructions
    usual_registration_days: int = Field(
        ge=0, description="Working days the method usually takes to be registered."
    )


class PaymentRequested(Event):
    """An order awaits this payment; carries the instructions to pay it."""

    type: Literal["payments.payment.requested"] = "payments.payment.requested"
    payload: PaymentRequestedPayload


class PaymentRestRequestedPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    order_number: NonEmpty
    order_kind: OrderKind
    service_id: NonEmpty
    holder: Holder
    method: NonEmpty
    amount_cents: Cents = Field(description="The order's whole amount.")
    received_cents: Cents = Field(description="What has arrived so far.")
    rest_cents: Cents = Field(description="What is still to pay: the instructions' amount.")
    instructions: PaymentInstructions
    usual_registration_days: int = Field(
        ge=0, description="Working days the method usually takes to be registered."
    )


class PaymentRestRequested(Event):
    """Less than the order's amount arrived: an operator kept it and asks for the rest,
    with these instructions. The order stays awaiting payment until the rest arrives."""

    type: Literal["payments.payment.rest_requested"] = "payments.payment.rest_requested"
    payload: PaymentRestRequestedPayload


class ChargeAttemptedPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    order_number: NonEmpty
    holder: Holder
    attempt: int = Field(ge=1)
    succeeded: bool
    reason: str | None = Field(default=None, description="Why it failed, in words.")
    next_attempt_on: date | None = Field(default=None, description="None: no more attempts.")
    amount_cents: Cents | None = Field(default=None, description="The amount charged.")
    method: str | None = Field(default=None, description="The stored method charged.")


class ChargeAttempted(Event):
    """One attempt to charge a stored method (automatic renewal)."""

    type: Literal["payments.payment.charge_attempted"] = "payments.payment.charge_attempted"
    payload: ChargeAttemptedPayload


class PaymentFailedPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    order_number: NonEmpty
    service_id: NonEmpty
    holder: Holder
    reason: NonEmpty
    attempts: int = Field(ge=1)
    amount_cents: Cents | None = Field(default=None, description="The amount not collected.")


class PaymentFailed(Event):
    """No more attempts: the service will expire normally unless paid otherwise."""

    type: Literal["payments.payment.failed"] = "payments.payment.failed"
    payload: PaymentFailedPayload


class PaymentVoidedPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    reason: NonEmpty


class PaymentVoided(Event):
    """The order was cancelled before it was paid: nothing more is expected."""

    type: Literal["payments.payment.voided"] = "payments.payment.voided"
    payload: PaymentVoidedPayload


class PaymentRefundedPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    amount_cents: Cents
    reason: NonEmpty
    refunded_at: AwareDatetime


class PaymentRefunded(Event):
    type: Literal["payments.payment.refunded"] = "payments.payment.refunded"
    payload: PaymentRefundedPayload


PAYMENTS_PAYMENT = TopicSpec(
    name="payments.payment.v1",
    producer="payments",
    events=(
        PaymentRequested,
        PaymentRegistered,
        PaymentRestRequested,
        ChargeAttempted,
        PaymentFailed,
        PaymentVoided,
        PaymentRefunded,
    ),
    description="Payments of orders, keyed by payment id.",
)
