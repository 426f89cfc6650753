"""A notification as stored: one message on one channel to one target, and its attempts."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from rinnovo.notifier.domain.delivery import Status


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
