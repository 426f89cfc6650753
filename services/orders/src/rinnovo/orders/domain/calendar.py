"""Calendar arithmetic on Europe/Rome dates (expiry dates are calendar dates, not instants)."""

from datetime import date


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def days_left(until: date, today: date) -> int:
    """The one count of days left before a date (an expiry date, the last day of a
    reactivation window): the days after today up to and including that date.

    The day before an expiry date 1 day is left, on the expiry day none ("expires today",
    though the service works through that day), and the count goes negative after it. The
    card shows it, an upgrade is charged pro rata for it and reminders tell it; so an upgrade
    on the day a one-year term starts is charged 365 days, exactly one year.
    """
    return (until - today).days
