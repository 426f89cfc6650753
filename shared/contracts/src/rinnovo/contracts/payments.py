"""Payments events that other services act on."""

from typing import Literal

from pydantic import AwareDatetime, Field

from rinnovo.contracts.envelope import Cents, Contract, Event, NonEmpty


class PaymentRegisteredPayload(Contract):
    payment_id: NonEmpty
    order_id: NonEmpty
    order_number: NonEmpty
    method: NonEmpty = Field(description="The payment-method plugin, e.g. `bank_transfer`.")
    amount_cents: Cents
    registered_at: AwareDatetime


class PaymentRegistered(Event):
    """Money for an order has been received; emitted once per order."""

    type: Literal["payments.payment.registered"] = "payments.payment.registered"
    payload: PaymentRegisteredPayload
