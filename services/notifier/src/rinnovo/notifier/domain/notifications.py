"""A notification as stored: one message on one channel to one target, and its attempts."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from rinnovo.notifier.domain.delivery import (
    Outcome,
    Refused,
    RetryLater,
    RetryPolicy,
    Sent,
    Status,
    after_attempt,
)
from rinnovo.notifier.domain.messages import Message, jsonable

INTERRUPTED = "no outcome was recorded: the process stopped during this attempt"


class Audience(StrEnum):
    CUSTOMER = "customer"
    """Shown in the customer's own history (e-mail)."""
    INTEGRATOR = "integrator"
    """Deliveries to integrators' systems (webhooks): operators see them, customers do not."""


@dataclass(frozen=True)
class Target:
    """Where one channel delivers one message."""

    key: str
    """Tells several targets of a channel apart (a webhook endpoint's id); ``""`` for one."""
    address: str
    audience: Audience


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    outcome: str
    """``sent``, ``retry``, ``refused``, ``gave_up`` or ``interrupted`` (no outcome recorded:
    the process stopped during the attempt)."""
    detail: str = ""
    status_code: int | None = None


@dataclass(frozen=True)
class Notification:
    notification_id: str
    channel: str
    template: str
    audience: Audience
    customer_id: str
    locale: str
    requested_locale: str
    target: Target
    recipient_name: str
    cause_event_id: str
    cause_type: str
    cause_aggregate_id: str
    cause_occurred_at: datetime
    correlation_id: str
    facts: Mapping[str, Any]
    """As JSON values."""
    content: Mapping[str, str]
    """What the channel sends, rendered when the notification was stored: every attempt
    sends exactly this (e-mail: subject, text, html; webhook: body)."""
    created_at: datetime
    status: Status = Status.PENDING
    attempts: int = 0
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None
    history: tuple[Attempt, ...] = field(default=())


def pending(
    message: Message,
    notification_id: str,
    channel: str,
    target: Target,
    content: Mapping[str, str],
    now: datetime,
) -> Notification:
    """A new notification of ``message`` on one channel to one target, due at once."""
    r, c = message.recipient, message.cause
    return Notification(
        notification_id=notification_id,
        channel=channel,
        template=message.template.value,
        audience=target.audience,
        customer_id=r.customer_id,
        locale=r.locale,
        requested_locale=r.requested_locale,
        target=target,
        recipient_name=r.name,
        cause_event_id=c.event_id,
        cause_type=c.type,
        cause_aggregate_id=c.aggregate_id,
        cause_occurred_at=c.occurred_at,
        correlation_id=c.correlation_id,
        facts=jsonable(message.facts),
        content=content,
        created_at=now,
        next_attempt_at=now,
    )


def attempted(
    n: Notification, outcome: Outcome, policy: RetryPolicy, now: datetime
) -> Notification:
    """The notification after its ``n.attempts``-th attempt ended with ``outcome``."""
    step = after_attempt(outcome, n.attempts, policy, now)
    history = list(n.history)
    recorded = history[-1].number if history else 0
    # Claimed attempts that never recorded an outcome (a crash): say so, in order.
    history += [
        Attempt(k, now, "interrupted", INTERRUPTED) for k in range(recorded + 1, n.attempts)
    ]
    match outcome:
        case Sent():
            name = "sent"
        case Refused():
            name = "refused"
        case RetryLater():
            name = "retry" if step.status is Status.PENDING else "gave_up"
    detail = outcome.detail if isinstance(outcome, Sent) else outcome.reason
    history.append(Attempt(n.attempts, now, name, detail, outcome.status_code))
    return replace(
        n,
        status=step.status,
        next_attempt_at=step.next_attempt_at,
        last_error=step.error,
        sent_at=now if step.status is Status.SENT else n.sent_at,
        failed_at=now if step.status is Status.FAILED else n.failed_at,
        history=tuple(history),
    )
