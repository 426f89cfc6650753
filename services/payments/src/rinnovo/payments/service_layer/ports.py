"""What the use cases need besides their aggregates, as interfaces the adapters satisfy."""

from dataclasses import dataclass
from typing import Protocol

from rinnovo.contracts.catalog import ProductSnapshot


class Products(Protocol):
    """Payments' own copy of the catalog's products (for their retry schedules)."""

    async def apply(self, product_id: str, version: int, snapshot: ProductSnapshot) -> None:
        """Keep ``snapshot`` unless a version as new is held already."""
        ...

    async def get(self, product_id: str) -> ProductSnapshot | None: ...


@dataclass(frozen=True)
class Policies:
    """Deployment settings the use cases need."""

    public_base_url: str
    default_retry_days: tuple[int, ...]
    """Used when the product is not (yet) in the catalog replica."""
