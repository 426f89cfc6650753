"""Time comes from an injected clock, so tests and demos can move it by days."""

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """The system clock moved by an offset that can change while the service runs.

    Time keeps flowing; ``advance`` jumps ahead. Used by tests and, behind an admin-only
    switch, by demo deployments.
    """

    def __init__(self, offset: timedelta = timedelta()) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta():
            raise ValueError("time only moves forward")
        self.offset += delta


class FixedClock:
    """A clock that stands still until told to move: for unit tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("a clock's time must be timezone-aware")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def rome_date(instant: datetime) -> date:
    """The calendar date in Rome at an instant: expiry dates are Rome dates."""
    return instant.astimezone(ROME).date()


def end_of_rome_day(day: date) -> datetime:
    """The first instant after ``day`` ends in Rome (midnight of the next day), in UTC."""
    next_midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=ROME)
    return next_midnight.astimezone(UTC)
