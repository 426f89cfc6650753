"""Which events travel on which topic: the whole published catalog.

One topic per aggregate, keyed by the aggregate id so one aggregate's events stay in order.
Each topic has a dead-letter twin, ``<topic>.DLT``. Each module of this package declares the
topics of its producer; this one gathers them.
"""

from rinnovo.contracts.catalog import CATALOG_CONVENTION_CODE, CATALOG_PRODUCT
from rinnovo.contracts.envelope import Event
from rinnovo.contracts.notifications import NOTIFIER_NOTIFICATION
from rinnovo.contracts.orders import ORDERS_ORDER, ORDERS_SERVICE
from rinnovo.contracts.panel import PANEL_USAGE
from rinnovo.contracts.payments import PAYMENTS_PAYMENT
from rinnovo.contracts.topic_spec import DLT_SUFFIX, TopicSpec

TOPICS: dict[str, TopicSpec] = {
    t.name: t
    for t in (
        CATALOG_PRODUCT,
        CATALOG_CONVENTION_CODE,
        ORDERS_ORDER,
        ORDERS_SERVICE,
        PAYMENTS_PAYMENT,
        NOTIFIER_NOTIFICATION,
        PANEL_USAGE,
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


__all__ = [
    "CATALOG_CONVENTION_CODE",
    "CATALOG_PRODUCT",
    "DLT_SUFFIX",
    "NOTIFIER_NOTIFICATION",
    "ORDERS_ORDER",
    "ORDERS_SERVICE",
    "PANEL_USAGE",
    "PAYMENTS_PAYMENT",
    "TOPICS",
    "TopicSpec",
    "event_class_for",
    "topic_for",
]
