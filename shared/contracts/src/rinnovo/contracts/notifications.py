"""Events of the notifier: what happened to each message sent to a customer or integrator.

Keyed by notification id. A notification's id is derived from the event that caused it, the
channel and the message type (and the webhook endpoint), so it is stable across redeliveries.
"""

from typing import Literal

from pydantic import AwareDatetime, Field

from rinnovo.contracts.envelope import Contract, Event, NonEmpty
from rinnovo.contracts.topic_spec import TopicSpec


class NotificationFailedPayload(Contract):
    notification_id: NonEmpty
    channel: NonEmpty
    recipient: str
    cause_event_id: NonEmpty
    template: NonEmpty
    reason: NonEmpty
    failed_at: AwareDatetime
    customer_id: str | None = Field(default=None, description="The holder it was meant for.")
    attempts: int | None = Field(default=None, ge=0, description="Attempts made in all.")


class NotificationFailed(Event):
    """A message could not be delivered and will not be tried again."""

    type: Literal["notifier.notification.failed"] = "notifier.notification.failed"
    payload: NotificationFailedPayload


class NotificationSentPayload(Contract):
    notification_id: NonEmpty
    channel: NonEmpty
    recipient: str = Field(description="The e-mail address or the endpoint URL.")
    customer_id: NonEmpty
    cause_event_id: NonEmpty
    template: NonEmpty
    locale: NonEmpty
    attempts: int = Field(ge=1, description="Attempts it took, this one included.")
    sent_at: AwareDatetime


class NotificationSent(Event):
    """A message was accepted by the receiving server (SMTP) or endpoint (HTTP 2xx)."""

    type: Literal["notifier.notification.sent"] = "notifier.notification.sent"
    payload: NotificationSentPayload


NOTIFIER_NOTIFICATION = TopicSpec(
    name="notifier.notification.v1",
    producer="notifier",
    events=(NotificationFailed, NotificationSent),
    description="Outcomes of customer messages worth acting on, keyed by notification id.",
)
