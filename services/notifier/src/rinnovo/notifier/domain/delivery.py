"""One attempt to deliver a notification, and what follows it: sent, try later, or give up."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    PENDING = "pending"
    """Stored, not yet delivered: waiting for its next attempt."""
    SENT = "sent"
    FAILED = "failed"
    """Given up on: permanently refused, or out of attempts. Emitted as NotificationFailed."""


@dataclass(frozen=True)
class Sent:
    detail: str = ""
    status_code: int | None = None


@dataclass(frozen=True)
class RetryLater:
    """A failure that time may fix: the server is down, busy, or says 4xx."""

    reason: str
    status_code: int | None = None
    after: timedelta | None = None
    """The receiver asked to wait this long (``Retry-After``)."""


@dataclass(frozen=True)
class Refused:
    """A failure that sending the same thing again cannot fix (a 5xx SMTP reply, 410 Gone)."""

    reason: str
    status_code: int | None = None


Outcome = Sent | RetryLater | Refused


@dataclass(frozen=True)
class RetryPolicy:
    initial: timedelta
    maximum: timedelta
    max_attempts: int

    def delay(self, attempts: int) -> timedelta:
        """Exponential back-off after the ``attempts``-th failed attempt, capped."""
        exponent = min(max(attempts - 1, 0), 32)
        delay: timedelta = self.initial * (2**exponent)
        return min(delay, self.maximum)


@dataclass(frozen=True)
class Next:
    """The notification's state after an attempt."""

    status: Status
    next_attempt_at: datetime | None
    error: str | None


def after_attempt(outcome: Outcome, attempts: int, policy: RetryPolicy, now: datetime) -> Next:
    """What an attempt's outcome means, ``attempts`` counting this one."""
    if isinstance(outcome, Sent):
        return Next(Status.SENT, None, None)
    if isinstance(outcome, Refused):
        return Next(Status.FAILED, None, outcome.reason)
    if attempts >= policy.max_attempts:
        return Next(Status.FAILED, None, f"gave up after {attempts} attempts: {outcome.reason}")
    wait = max(policy.delay(attempts), outcome.after or timedelta())
    return Next(Status.PENDING, now + min(wait, policy.maximum), outcome.reason)
