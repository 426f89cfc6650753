"""Time travel for demo and test deployments: an admin moves a service's clock forward.

Off by default. ``RINNOVO_<SERVICE>_TIME_TRAVEL=true`` gives the service a
:class:`ShiftedClock` and the admin-only ``/v1/admin/clock`` routes; each service registers
what must look again at the time once it moved (its schedulers), so days pass in seconds.
A whole deployment is moved by moving each service's clock by the same amount.
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from rinnovo.runtime.auth import Auth, Principal
from rinnovo.runtime.clock import Clock, ShiftedClock, SystemClock
from rinnovo.runtime.errors import Invalid
from rinnovo.runtime.problems import COMMON_RESPONSES


def service_clock(time_travel: bool) -> Clock:
    """The clock a service runs on: the system's, or one an admin may move."""
    return ShiftedClock() if time_travel else SystemClock()


class AdvanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=0, ge=0, le=3650, strict=True)
    seconds: int = Field(default=0, ge=0, le=3650 * 86400, strict=True)


class ClockOut(BaseModel):
    now: datetime
    offset_seconds: float


def clock_router(
    clock: ShiftedClock, auth: Auth, on_moved: Sequence[Callable[[], None]]
) -> APIRouter:
    router = APIRouter(prefix="/v1/admin/clock", tags=["operators"], responses=COMMON_RESPONSES)
    Admin = Annotated[Principal, Depends(auth.admin)]

    def reading() -> ClockOut:
        return ClockOut(now=clock.now(), offset_seconds=clock.offset.total_seconds())

    @router.get("", summary="This service's clock")
    async def now(_: Admin) -> ClockOut:
        return reading()

    @router.post("/advance", summary="Move this service's clock forward")
    async def advance(body: AdvanceIn, _: Admin) -> ClockOut:
        delta = timedelta(days=body.days, seconds=body.seconds)
        try:
            clock.now() + delta
        except OverflowError as exc:
            raise Invalid("days", "the clock would pass the year 9999") from exc
        clock.advance(delta)
        for wake in on_moved:
            wake()
        return reading()

    return router
