"""Real events of the published contracts, as the benchmarks send them."""

import uuid
from typing import Any

from rinnovo.contracts import Event
from rinnovo.contracts.orders import OrderKind
from rinnovo.contracts.payments import InstructionsKind
from rinnovo.testing import notifier_samples as samples


def order_placed(aggregate_id: str = "order-1") -> Event:
    """An ``orders.order.placed`` event (a renewal of a full service), with a fresh id."""
    sample = samples.order_placed(samples.holder(), OrderKind.RENEWAL, "bench")
    return fresh(sample, aggregate_id)


def payment_requested(aggregate_id: str, version: int, causation: Event) -> Event:
    """The ``payments.payment.requested`` a payments service answers an order with."""
    sample = samples.payment_requested(
        samples.holder(), InstructionsKind.BANK_TRANSFER, "bench-payment"
    )
    return fresh(
        sample,
        aggregate_id,
        aggregate_version=version,
        correlation_id=causation.correlation_id,
        causation_id=str(causation.event_id),
    )


def fresh(event: Event, aggregate_id: str, **changes: Any) -> Event:
    return event.model_copy(
        update={"event_id": uuid.uuid4(), "aggregate_id": aggregate_id, **changes}
    )
