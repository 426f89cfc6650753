"""What the use cases need besides their aggregates, as interfaces the adapters satisfy."""

from dataclasses import dataclass
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
    payment_methods: frozenset[str]
    stored_payment_methods: frozenset[str]
    """Methods that can be charged again without the customer: automatic renewal needs one."""
