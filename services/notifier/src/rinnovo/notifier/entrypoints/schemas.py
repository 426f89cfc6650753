"""The notifier API's request and response bodies."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from rinnovo.notifier.domain.endpoints import Endpoint
from rinnovo.notifier.domain.notifications import Attempt, Notification

Secret = Annotated[str, StringConstraints(min_length=16, max_length=200)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CauseOut(BaseModel):
    event_id: str
    type: str
    aggregate_id: str
    occurred_at: datetime


class AttemptOut(BaseModel):
    number: int
    at: datetime
    outcome: str = Field(description="sent, retry, refused, gave_up or interrupted.")
    detail: str
    status_code: int | None = Field(description="SMTP reply or HTTP status code, if any.")

    @classmethod
    def of(cls, a: Attempt) -> "AttemptOut":
        return cls(
            number=a.number, at=a.at, outcome=a.outcome, detail=a.detail, status_code=a.status_code
        )


class NotificationOut(BaseModel):
    """One message as its holder sees it in the customer area."""

    notification_id: str
    channel: str
    template: str = Field(description="The message type, e.g. `order_confirmed`.")
    locale: str
    recipient: str
    subject: str | None = Field(description="E-mail only.")
    status: str = Field(description="pending, sent or failed.")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    cause: CauseOut

    @classmethod
    def of(cls, n: Notification) -> "NotificationOut":
        return cls(**_common(n))


class NotificationDetailOut(NotificationOut):
    text: str | None = Field(description="The plain-text body of an e-mail.")

    @classmethod
    def of(cls, n: Notification) -> "NotificationDetailOut":
        return cls(**_common(n), text=n.content.get("text"))


class AdminNotificationOut(NotificationOut):
    """A notification with everything operators need to explain it."""

    customer_id: str
    audience: str
    requested_locale: str
    endpoint_id: str | None
    next_attempt_at: datetime | None
    failed_at: datetime | None
    last_error: str | None
    history: list[AttemptOut]

    @classmethod
    def of(cls, n: Notification) -> "AdminNotificationOut":
        return cls(
            **_common(n),
            customer_id=n.customer_id,
            audience=n.audience.value,
            requested_locale=n.requested_locale,
            endpoint_id=n.target.key or None,
            next_attempt_at=n.next_attempt_at,
            failed_at=n.failed_at,
            last_error=n.last_error,
            history=[AttemptOut.of(a) for a in n.history],
        )


class AdminNotificationDetailOut(AdminNotificationOut):
    facts: dict[str, Any]
    content: dict[str, str]

    @classmethod
    def of(cls, n: Notification) -> "AdminNotificationDetailOut":
        base = AdminNotificationOut.of(n).model_dump()
        return cls(**base, facts=dict(n.facts), content=dict(n.content))


def _common(n: Notification) -> dict[str, Any]:
    return {
        "notification_id": n.notification_id,
        "channel": n.channel,
        "template": n.template,
        "locale": n.locale,
        "recipient": n.target.address,
        "subject": n.content.get("subject"),
        "status": n.status.value,
        "attempts": n.attempts,
        "created_at": n.created_at,
        "sent_at": n.sent_at,
        "cause": CauseOut(
            event_id=n.cause_event_id,
            type=n.cause_type,
            aggregate_id=n.cause_aggregate_id,
            occurred_at=n.cause_occurred_at,
        ),
    }


class EndpointIn(Body):
    url: str = Field(max_length=2000, examples=["https://crm.example.it/hooks/rinnovo"])
    events: list[str] = Field(
        min_length=1, description="Message types to receive (e.g. `service_expired`), or `*`."
    )
    description: str = Field(default="", max_length=500)
    secret: Secret | None = Field(
        default=None, description="Signing secret; generated when omitted (shown once)."
    )


class EndpointOut(BaseModel):
    endpoint_id: str
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, e: Endpoint) -> "EndpointOut":
        return cls(
            endpoint_id=e.endpoint_id,
            url=e.url,
            events=list(e.events),
            description=e.description,
            active=e.active,
            created_at=e.created_at,
        )


class RegisteredEndpointOut(EndpointOut):
    secret: str = Field(description="Keep it: it is not shown again.")

    @classmethod
    def of(cls, e: Endpoint) -> "RegisteredEndpointOut":
        return cls(**EndpointOut.of(e).model_dump(), secret=e.secret)
