"""The bounds of what a request may carry.

Every number and date that reaches storage (MongoDB keeps 8-byte integers) or date
arithmetic (Python's dates end with the year 9999) has a bound in its schema, so a value out
of range is a 422 naming its field, never a 500, and the OpenAPI document says each bound.
JSON Schema has no bound for a ``date`` string: ours say theirs with ``formatMinimum`` and
``formatMaximum`` (the keywords ajv-formats reads), and refuse anything outside.
"""

from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, Field

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2199, 12, 31)
"""Far enough for any expiry, price or code, and two centuries from the end of ``date``."""

MAX_CENTS = 100_000_000_000
"""A billion euro: more than any order, price or discount; the payments service's bound."""
MAX_DAYS = 3650
"""Ten years: the longest window, lead time or reminder a policy may name."""
MAX_TERM_YEARS = 10
MAX_STORAGE_GB = 1_000_000
MAX_USED_BYTES = 10**18
"""An exabyte: above any quota (``MAX_STORAGE_GB``), still far below 2**63."""
MAX_UNITS = 1_000_000
"""Of any option (GB, users, modules) a product sells or a service holds."""


def _within(day: date) -> date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"a day between {EARLIEST_DAY} and {LATEST_DAY}")
    return day


def _date_bounds(schema: dict[str, Any]) -> None:
    schema["formatMinimum"] = EARLIEST_DAY.isoformat()
    schema["formatMaximum"] = LATEST_DAY.isoformat()


Day = Annotated[date, Field(json_schema_extra=_date_bounds), AfterValidator(_within)]
"""A calendar day between ``EARLIEST_DAY`` and ``LATEST_DAY``."""

Cents = Annotated[
    int, Field(ge=0, le=MAX_CENTS, strict=True, description="An amount in euro cents.")
]
Days = Annotated[int, Field(ge=0, le=MAX_DAYS, strict=True)]
TermYears = Annotated[int, Field(ge=1, le=MAX_TERM_YEARS, strict=True)]
Units = Annotated[int, Field(ge=0, le=MAX_UNITS, strict=True)]
