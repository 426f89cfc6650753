"""Which events travel on which topic.

One topic per aggregate, keyed by the aggregate id so one aggregate's events stay in order.
Each topic has a dead-letter twin, ``<topic>.DLT``.
"""

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from rinnovo.contracts.catalog import ConventionCodeSnapshotPublished, ProductSnapshotPublished
from rinnovo.contracts.envelope import Event
from rinnovo.contracts.orders import (
    AutomaticRenewalSwitched,
    OrderCancelled,
    OrderPaid,
    OrderPaymentRefused,
    OrderPlaced,
    ServiceActivated,
    ServiceReactivated,
    ServiceRenewed,
    ServiceUpgraded,
)
from rinnovo.contracts.payments import PaymentRegistered

DLT_SUFFIX = ".DLT"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    events: tuple[type[Event], ...]
    compacted: bool = False
    description: str = ""
    payload_type: Any = field(init=False, repr=False, compare=False)
    """The topic's events as one type: a union discriminated by ``type``."""
    _adapter: TypeAdapter[Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        union: Any = self.events[0]
        for event in self.events[1:]:
            union = union | event
        if len(self.events) > 1:
            union = Annotated[union, Field(discriminator="type")]
        object.__setattr__(self, "payload_type", union)
        object.__setattr__(self, "_adapter", TypeAdapter(union))

    @property
    def dead_letter(self) -> str:
        return self.name + DLT_SUFFIX

    def event_types(self) -> tuple[str, ...]:
        return tuple(e.event_type() for e in self.events)

    def parse(self, raw: bytes | str) -> Event:
        """Validate a message body as one of this topic's events (raises on anything else)."""
        event: Event = self._adapter.validate_json(raw)
        return event


CATALOG_PRODUCT = TopicSpec(
    name="catalog.product.v1",
    producer="catalog",
    events=(ProductSnapshotPublished,),
    compacted=True,
    description="Current state of each product, keyed by product id.",
)
CATALOG_CONVENTION_CODE = TopicSpec(
    name="catalog.convention-code.v1",
    producer="catalog",
    events=(ConventionCodeSnapshotPublished,),
    compacted=True,
    description="Current state of each convention code, keyed by the code.",
)

ORDERS_ORDER = TopicSpec(
    name="orders.order.v1",
    producer="orders",
    events=(OrderPlaced, OrderCancelled, OrderPaid, OrderPaymentRefused),
    description="Life of each order, keyed by order id.",
)
ORDERS_SERVICE = TopicSpec(
    name="orders.service.v1",
    producer="orders",
    events=(
        ServiceActivated,
        ServiceRenewed,
        ServiceReactivated,
        ServiceUpgraded,
        AutomaticRenewalSwitched,
    ),
    description="Life of each customer's service, keyed by service id; carries its state.",
)
PAYMENTS_PAYMENT = TopicSpec(
    name="payments.payment.v1",
    producer="payments",
    events=(PaymentRegistered,),
    description="Payments of orders, keyed by payment id.",
)

TOPICS: dict[str, TopicSpec] = {
    t.name: t
    for t in (
        CATALOG_PRODUCT,
        CATALOG_CONVENTION_CODE,
        ORDERS_ORDER,
        ORDERS_SERVICE,
        PAYMENTS_PAYMENT,
    )
}


def topic_for(event: type[Event]) -> TopicSpec:
    """The one topic an event class is published on."""
    for spec in TOPICS.values():
        if event in spec.events:
            return spec
    raise LookupError(f"{event.__name__} is on no topic")


def event_class_for(event_type: str) -> type[Event]:
    for spec in TOPICS.values():
        for event in spec.events:
            if event.event_type() == event_type:
                return event
    raise LookupError(f"unknown event type {event_type!r}")
