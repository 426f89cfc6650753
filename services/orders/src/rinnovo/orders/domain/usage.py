"""Storage usage reported by the panel, and when it crosses the warning threshold."""

from dataclasses import dataclass, replace
from datetime import datetime

from rinnovo.orders.domain.subscription import Subscription


def above(service: Subscription, threshold_percent: int) -> bool:
    return service.used_bytes * 100 > threshold_percent * service.quota_bytes


@dataclass(frozen=True)
class Measured:
    service: Subscription
    crossed: bool
    """The measure went above the threshold from below it: a warning is due."""


def measured(
    service: Subscription, used_bytes: int, at: datetime, threshold_percent: int
) -> Measured | None:
    """The latest measure kept; None for one older than (or as old as) what is held."""
    if service.usage_measured_at is not None and at <= service.usage_measured_at:
        return None
    after = replace(service, used_bytes=used_bytes, usage_measured_at=at)
    crossed = above(after, threshold_percent) and not above(service, threshold_percent)
    return Measured(after, crossed)
