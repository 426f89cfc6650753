"""Events of the notifier: what happened to each message sent to a customer."""

from typing import Literal

from pydantic import AwareDatetime

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


class NotificationFailed(Event):
    """A message could not be delivered and will not be tried again."""

    type: Literal["notifier.notification.failed"] = "notifier.notification.failed"
    payload: NotificationFailedPayload


NOTIFIER_NOTIFICATION = TopicSpec(
    name="notifier.notification.v1",
    producer="notifier",
    events=(NotificationFailed,),
    description="Outcomes of customer messages worth acting on, keyed by notification id.",
)
