"""Who changed what, and when: kept with each product and code."""

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Who:
    by: str
    """The authenticated subject (an operator), or ``seed`` for the seed file."""
    at: datetime


class AuditEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    by: str
    action: str
    version: int
    """Version of the product or code after the change."""
    fields: tuple[str, ...]
    """Top-level fields whose value changed."""


def changed_fields(before: BaseModel | None, after: BaseModel) -> tuple[str, ...]:
    new = after.model_dump(mode="json")
    if before is None:
        return tuple(sorted(new))
    old = before.model_dump(mode="json")
    return tuple(sorted(k for k in new.keys() | old.keys() if new.get(k) != old.get(k)))
