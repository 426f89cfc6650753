"""What the use cases need besides their aggregates, as interfaces the adapters satisfy."""

from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pydantic import BaseModel

S = TypeVar("S", bound=BaseModel)


@dataclass(frozen=True)
class IdempotencyRecord:
    request_hash: str
    order_id: str
    customer_id: str
    """Whose key it is: a record found for someone else is never their answer."""


class IdempotencyKeys(Protocol):
    async def claim(self, key_id: str, record: IdempotencyRecord) -> IdempotencyRecord:
        """Record the key (``key_id``: one customer's key, see ``checkout.idempotency_id``)
        with this request, or return what an earlier request recorded."""
        ...


@dataclass(frozen=True)
class UseLimits:
    """How many orders (awaiting payment or paid) may use a convention code."""

    total: int | None
    per_customer: int | None


class CodeUses(Protocol):
    """The orders using each convention code that has limits, counted atomically."""

    async def claim(self, code: str, order_id: str, customer_id: str, limits: UseLimits) -> bool:
        """Count the order's use unless that would pass a limit; True when it is counted
        (by this call or an earlier one for the same order)."""
        ...

    async def release(self, code: str, order_id: str, customer_id: str) -> None:
        """Give back the order's use, if it was counted (once, however often called)."""
        ...


class OrderNumbers(Protocol):
    async def next(self, year: int) -> str:
        """The next human-readable number of the year, never reused."""
        ...


class Replica(Protocol[S]):
    """This service's copy of catalog snapshots, kept from the catalog's topics."""

    async def apply(self, id_: str, version: int, snapshot: S) -> bool: ...

    async def get(self, id_: str) -> S | None: ...

    async def version(self, id_: str) -> int: ...

    async def all(self) -> list[S]: ...


@dataclass(frozen=True)
class Policies:
    """Deployment settings the use cases need."""

    acceptance_versions: dict[str, str]
    """The version of each document checkout asks the customer to accept."""
    payment_methods: frozenset[str]
    stored_payment_methods: frozenset[str]
    """Methods that can be charged again without the customer: automatic renewal needs one."""
    document_urls: dict[str, str] = field(default_factory=dict)
    """Where the customer reads each document to accept."""
