"""Sample events for tests of the runtime's plumbing, where any valid event will do."""

from datetime import datetime

from rinnovo.contracts.payments import PaymentRegistered, PaymentRegisteredPayload
from rinnovo.runtime.events import new_event


def payment_registered(occurred_at: datetime) -> PaymentRegistered:
    """A bank transfer of 30.50 € registered for order 2026-000001 at ``occurred_at``."""
    return new_event(
        PaymentRegistered,
        payload=PaymentRegisteredPayload(
            payment_id="p1",
            order_id="o1",
            order_number="2026-000001",
            method="bank_transfer",
            amount_cents=3050,
            registered_at=occurred_at,
        ),
        producer="payments",
        aggregate_id="p1",
        aggregate_version=2,
        occurred_at=occurred_at,
    )
