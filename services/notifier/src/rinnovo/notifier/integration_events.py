"""The notifier's published events, built from notifications (the only place that maps them)."""

from datetime import datetime

from rinnovo.contracts.envelope import Event
from rinnovo.contracts.notifications import (
    NotificationFailed,
    NotificationFailedPayload,
    NotificationSent,
    NotificationSentPayload,
)
from rinnovo.notifier.domain.notifications import Notification
from rinnovo.runtime.events import new_event

PRODUCER = "notifier"


def notification_sent(n: Notification, version: int, at: datetime) -> Event:
    payload = NotificationSentPayload(
        notification_id=n.notification_id,
        channel=n.channel,
        recipient=n.target.address,
        customer_id=n.customer_id,
        cause_event_id=n.cause_event_id,
        template=n.template,
        locale=n.locale,
        attempts=n.attempts,
        sent_at=at,
    )
    return _event(NotificationSent, payload, n, version, at)


def notification_failed(n: Notification, reason: str, version: int, at: datetime) -> Event:
    payload = NotificationFailedPayload(
        notification_id=n.notification_id,
        channel=n.channel,
        recipient=n.target.address,
        cause_event_id=n.cause_event_id,
        template=n.template,
        reason=reason,
        failed_at=at,
        customer_id=n.customer_id,
        attempts=n.attempts,
    )
    return _event(NotificationFailed, payload, n, version, at)


def _event(cls: type[Event], payload: object, n: Notification, version: int, at: datetime) -> Event:
    return new_event(
        cls,
        payload=payload,
        producer=PRODUCER,
        aggregate_id=n.notification_id,
        aggregate_version=version,
        occurred_at=at,
        correlation_id=n.correlation_id,
        causation_id=n.cause_event_id,
    )
