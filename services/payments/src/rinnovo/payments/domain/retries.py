"""When an automatic-renewal charge is tried again: the product's retry schedule."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from rinnovo.runtime.clock import end_of_rome_day


def next_attempt_at(
    failed_at: datetime, attempts_made: int, retry_days: Sequence[int], due: date
) -> datetime | None:
    """After the ``attempts_made``-th failure, the instant of the next try, or None when the
    schedule is used up or the next try would fall after the order's due day (orders cancels
    the order then, so charging later would take money for nothing)."""
    index = attempts_made - 1
    if index >= len(retry_days):
        return None
    at = failed_at + timedelta(days=retry_days[index])
    return at if at < end_of_rome_day(due) else None
