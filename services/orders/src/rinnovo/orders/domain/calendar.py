"""Calendar arithmetic on Europe/Rome dates (expiry dates are calendar dates, not instants)."""

from datetime import date


def add_years(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def days_left(expiry: date, today: date) -> int:
    """Days of service left, today included: the service works through its expiry day."""
    return max((expiry - today).days + 1, 0)
