"""How amounts, dates and sizes read in a customer message: the Italian way, in both languages.

Integer arithmetic only: an amount never passes through a float on its way to the customer.
"""

from datetime import date, datetime

from rinnovo.runtime.clock import ROME

BYTES_PER_GB = 1_000_000_000
"""The panel's gigabyte (decimal), the unit storage is sold in."""


class Cents(int):
    """An amount in euro cents. Templates can show it only through the ``euro`` filter, so a
    raw number of cents never reaches a customer."""

    __slots__ = ()


def _grouped(whole: int) -> str:
    """Thousands separated by dots: 1234567 -> 1.234.567."""
    return f"{whole:,}".replace(",", ".")


def euro(cents: int) -> str:
    """1234.56 euro as ``1.234,56 €``."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"euro() takes integer cents, not {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{_grouped(whole)},{rest:02d} €"


def data(value: date) -> str:
    """A calendar date as ``gg/mm/aaaa``; an instant as the date it is in Rome."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("an instant shown to a customer must be timezone-aware")
        value = value.astimezone(ROME).date()
    if not isinstance(value, date):
        raise TypeError(f"data() takes a date, not {type(value).__name__}")
    return value.strftime("%d/%m/%Y")


def gigabytes(n_bytes: int) -> str:
    """Bytes as gigabytes with two decimals, halves up: 850_000_000 -> ``0,85 GB``."""
    if n_bytes < 0:
        raise ValueError("a size is never negative")
    hundredths = (n_bytes * 100 + BYTES_PER_GB // 2) // BYTES_PER_GB
    whole, rest = divmod(hundredths, 100)
    return f"{_grouped(whole)},{rest:02d} GB"


def percent_used(used_bytes: int, quota_bytes: int) -> int:
    """Whole percent of the quota in use, rounded down (never shows 100 % before it is)."""
    if quota_bytes <= 0:
        return 100 if used_bytes > 0 else 0
    return used_bytes * 100 // quota_bytes
