"""What a notification says, to whom, and because of what: independent of any channel."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any

from rinnovo.contracts.orders import Holder


class Template(StrEnum):
    """Every message the notifier sends; each has a subject, a text and an HTML template per
    language, and is the ``type`` integrators' webhooks receive."""

    ORDER_CONFIRMED = "order_confirmed"
    PAYMENT_REGISTERED = "payment_registered"
    RENEWAL_COMPLETED = "renewal_completed"
    EXPIRY_REMINDER = "expiry_reminder"
    AUTOMATIC_RENEWAL_UPCOMING = "automatic_renewal_upcoming"
    AUTOMATIC_RENEWAL_SUCCEEDED = "automatic_renewal_succeeded"
    AUTOMATIC_RENEWAL_RETRY = "automatic_renewal_retry"
    AUTOMATIC_RENEWAL_FAILED = "automatic_renewal_failed"
    SERVICE_EXPIRED = "service_expired"
    REACTIVATION_WINDOW_CLOSING = "reactivation_window_closing"
    SERVICE_DEACTIVATED = "service_deactivated"
    STORAGE_THRESHOLD = "storage_threshold"
    ORDER_CANCELLED = "order_cancelled"


Facts = dict[str, Any]
"""What a template shows, by name."""
Composed = tuple["Template", Holder, Facts]
"""An event's message before its recipient is checked: template, holder and facts."""


@dataclass(frozen=True)
class Recipient:
    customer_id: str
    name: str
    email: str
    locale: str
    """The language the message is written in."""
    requested_locale: str
    """What the event asked for; differs from ``locale`` when we fell back."""


@dataclass(frozen=True)
class Cause:
    """The event a notification exists because of."""

    event_id: str
    type: str
    aggregate_id: str
    occurred_at: datetime
    correlation_id: str


@dataclass(frozen=True)
class Message:
    template: Template
    recipient: Recipient
    cause: Cause
    facts: Mapping[str, Any]
    """What the templates show: amounts as ``Cents``, calendar dates as ``date``."""


@dataclass(frozen=True)
class KnownOrder:
    """What the notifier remembers of an order from its ``OrderPlaced``: service events name
    the order that changed them, but not its kind or number."""

    order_id: str
    number: str
    kind: str
    total_cents: int
    payment_method: str
    username: str


class CannotNotify(Exception):
    """The event asks for a message that cannot be written (no recipient, missing facts);
    sending something wrong would be worse than an operator looking at it."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = reason


def jsonable(value: Any) -> Any:
    """Facts as JSON values (for the store and webhooks): cents stay integers, dates and
    instants become ISO 8601 strings."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    return value
