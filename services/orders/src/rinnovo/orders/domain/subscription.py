"""A customer's service (subscription) as orders sees it: what the card and carts start from."""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

BYTES_PER_GB = 1_000_000_000
"""Storage is sold in decimal gigabytes, as the panel reports usage."""


class Status(StrEnum):
    PENDING_ACTIVATION = "pending_activation"
    ACTIVE = "active"
    EXPIRED = "expired"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Components:
    """What a service holds, or what a cart asks for."""

    storage_gb: int
    extra_users: int
    nso: bool


@dataclass(frozen=True)
class AutoRenewal:
    enabled: bool
    term_years: int
    payment_method: str | None = None


@dataclass(frozen=True)
class Holder:
    """The holder (*intestatario*) and the reference address every message goes to."""

    name: str
    email: str
    locale: str = "it"


@dataclass(frozen=True)
class TimelineEntry:
    """Something that happened to the service, as its timeline shows it."""

    at: datetime
    event: str
    expiry_date: date | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    customer_id: str
    holder: Holder
    username: str
    product_id: str
    status: Status
    expiry_date: date | None
    components: Components
    used_bytes: int
    auto_renewal: AutoRenewal
    milestones_done: tuple[str, ...] = ()
    """Keys of the milestones of the current term already handled (see ``schedule``)."""
    usage_measured_at: datetime | None = None
    deactivated_at: datetime | None = None
    history: tuple[TimelineEntry, ...] = ()
    applied_orders: tuple[str, ...] = ()
    """Paid orders already applied: a replayed payment event can never apply one twice."""
    next_due_at: datetime | None = None
    """When its next milestone falls due (``schedule.recorded`` keeps it with every change)."""

    @property
    def quota_bytes(self) -> int:
        return self.components.storage_gb * BYTES_PER_GB
