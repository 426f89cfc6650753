"""Request and response bodies about services themselves: automatic renewal, timelines and
the operators' import."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from rinnovo.orders.domain.schedule import Milestone
from rinnovo.orders.domain.subscription import Subscription
from rinnovo.orders.entrypoints.schemas import Body, HolderIn, Username
from rinnovo.runtime.bounds import MAX_STORAGE_GB, MAX_USED_BYTES, Day, TermYears, Units


class AutomaticRenewalIn(Body):
    enabled: bool
    term_years: TermYears | None = None
    payment_method: str | None = Field(default=None, max_length=50)


class ServiceImport(Body):
    """An existing service brought under management (operators only)."""

    service_id: str = Field(min_length=1, max_length=200)
    customer_id: str = Field(min_length=1, max_length=200)
    holder: HolderIn
    username: Username
    product_id: str = Field(max_length=200)
    status: Literal["active", "expired"] = "active"
    expiry_date: Day
    storage_gb: int = Field(ge=1, le=MAX_STORAGE_GB, strict=True)
    extra_users: Units = 0
    nso: bool = False
    used_bytes: int = Field(default=0, ge=0, le=MAX_USED_BYTES, strict=True)
    automatic_renewal: AutomaticRenewalIn | None = None


class PastEventOut(BaseModel):
    at: datetime
    event: str = Field(description="e.g. `renewed`, `expiring`, `expired`.")
    expiry_date: date | None
    order_id: str | None


class UpcomingOut(BaseModel):
    milestone: str = Field(
        description="`reminder`, `automatic_renewal_notice` (the customer told of the "
        "charge ahead), `automatic_renewal` (the charge), `expiry`, `window_closing`, "
        "`deactivation` (end of the reactivation window)."
    )
    day: date = Field(description="The Europe/Rome day it happens.")
    at: datetime


class TimelineOut(BaseModel):
    service_id: str
    past: list[PastEventOut]
    upcoming: list[UpcomingOut]

    @classmethod
    def of(cls, service: Subscription, upcoming: list[Milestone]) -> "TimelineOut":
        return cls(
            service_id=service.subscription_id,
            past=[PastEventOut(**vars(e)) for e in reversed(service.history)],
            upcoming=[
                UpcomingOut(milestone=m.kind.value, day=m.day, at=m.due_at) for m in upcoming
            ],
        )
