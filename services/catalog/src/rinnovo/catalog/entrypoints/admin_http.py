"""The operators' API: create and change products, prices, policies and convention codes.

Every route needs a bearer token with the admin role. Each change is stored with who made
it and when, and published as the new snapshot. Responses carry the version as an ``ETag``;
sending it back in ``If-Match`` refuses the change (412) if someone changed it meanwhile.
"""

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Response, status
from pydantic import BaseModel, Field

from rinnovo.catalog.adapters.snapshots import Listing
from rinnovo.catalog.domain.audit import AuditEntry, Entry
from rinnovo.catalog.domain.drafts import (
    CodeChanges,
    CodeDraft,
    NewPriceVersion,
    PolicyDraft,
    ProductChanges,
    ProductDraft,
)
from rinnovo.catalog.domain.errors import (
    AlreadyExists,
    NoLongerChanges,
    NotFound,
    Rejected,
    StaleVersion,
)
from rinnovo.catalog.service_layer import codes, products
from rinnovo.catalog.service_layer.entries import Catalog
from rinnovo.contracts.catalog import ConventionCodeSnapshot, ProductSnapshot
from rinnovo.runtime.auth import Auth, Principal
from rinnovo.runtime.changes import Stored
from rinnovo.runtime.problems import Problem

S = TypeVar("S", bound=BaseModel)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid bearer token"},
    403: {"description": "The token lacks the admin role"},
    404: {"description": "No such product or code"},
    409: {"description": "It already exists, or it no longer changes"},
    412: {"description": "Changed since the version named in If-Match"},
    422: {"description": "Invalid: each error names its field"},
}


class Managed(BaseModel):
    version: int = Field(description="Also the ETag; send it in If-Match to change this version.")
    changed_by: str = Field(description="Who made the last change.")
    changed_at: datetime | None = Field(description="When the last change was made.")
    audit: tuple[AuditEntry, ...] = Field(
        default=(), description="Every change, oldest first (single-item responses only)."
    )

    @staticmethod
    def common(stored: Stored[Entry[Any]]) -> dict[str, Any]:
        return {
            "version": stored.version,
            "changed_by": stored.value.changed_by,
            "changed_at": stored.value.changed_at,
            "audit": stored.value.audit,
        }


class ManagedProduct(Managed):
    product: ProductSnapshot

    @classmethod
    def of(cls, stored: Stored[Entry[ProductSnapshot]]) -> "ManagedProduct":
        return cls(product=stored.value.snapshot, **cls.common(stored))


class ManagedCode(Managed):
    convention_code: ConventionCodeSnapshot

    @classmethod
    def of(cls, stored: Stored[Entry[ConventionCodeSnapshot]]) -> "ManagedCode":
        return cls(convention_code=stored.value.snapshot, **cls.common(stored))


IfMatch = Annotated[
    str | None,
    Header(description="The version (ETag) the change is based on; refused if it moved on."),
]


def expected_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        # An entity tag we never issued matches nothing (RFC 9110, 13.1.1).
        raise Problem(412, "Precondition failed", f"If-Match {if_match!r} is not a version")
    return int(tag)


@contextlib.contextmanager
def as_problems() -> Iterator[None]:
    """Domain refusals as problem+json; ``Rejected`` names each field at fault."""
    try:
        yield
    except Rejected as exc:
        errors = [{"field": field, "message": message} for field, message in exc.problems]
        raise Problem(422, "Invalid request", str(exc), errors=errors) from exc
    except NotFound as exc:
        raise Problem(404, "Not found", str(exc)) from exc
    except AlreadyExists as exc:
        raise Problem(409, "Already exists", str(exc)) from exc
    except NoLongerChanges as exc:
        raise Problem(409, "No longer changes", str(exc)) from exc
    except StaleVersion as exc:
        raise Problem(412, "Precondition failed", str(exc)) from exc


def _etag(response: Response, stored: Stored[Entry[S]]) -> None:
    response.headers["ETag"] = f'"{stored.version}"'


def admin_router(
    catalog: Catalog,
    product_list: Listing[ProductSnapshot],
    code_list: Listing[ConventionCodeSnapshot],
    auth: Auth,
) -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["catalog administration"], responses=ERRORS)
    _product_routes(router, catalog, product_list, auth)
    _policy_and_price_routes(router, catalog, auth)
    _code_routes(router, catalog, code_list, auth)
    return router


def _product_routes(
    router: APIRouter, catalog: Catalog, listing: Listing[ProductSnapshot], auth: Auth
) -> None:
    Operator = Annotated[Principal, Depends(auth.admin)]

    @router.get("/products", summary="Every product, on sale or not")
    async def list_products(_: Operator) -> list[ManagedProduct]:
        return [ManagedProduct.of(p) for p in await listing.all()]

    @router.get("/products/{product_id}", summary="One product with its change history")
    async def get_product(product_id: str, _: Operator, response: Response) -> ManagedProduct:
        stored = await catalog.products.changes.get(product_id)
        if stored is None:
            raise Problem(404, "Not found", f"no product {product_id}")
        _etag(response, stored)
        return ManagedProduct.of(stored)

    @router.post(
        "/products",
        status_code=status.HTTP_201_CREATED,
        summary="Create a product with its first prices",
    )
    async def create_product(
        draft: ProductDraft, who: Operator, response: Response
    ) -> ManagedProduct:
        with as_problems():
            stored = await products.create_product(catalog, draft, who.subject)
        response.headers["Location"] = f"/v1/admin/products/{draft.product_id}"
        _etag(response, stored)
        return ManagedProduct.of(stored)

    @router.put(
        "/products/{product_id}",
        summary="Replace a product's names, terms, options, VAT and policy",
        description="Prices are not replaced: add a price version instead.",
    )
    async def revise_product(
        product_id: str,
        changes: ProductChanges,
        who: Operator,
        response: Response,
        if_match: IfMatch = None,
    ) -> ManagedProduct:
        with as_problems():
            stored = await products.revise_product(
                catalog, product_id, changes, who.subject, expected_version(if_match)
            )
        _etag(response, stored)
        return ManagedProduct.of(stored)


def _policy_and_price_routes(router: APIRouter, catalog: Catalog, auth: Auth) -> None:
    Operator = Annotated[Principal, Depends(auth.admin)]

    @router.put("/products/{product_id}/policy", summary="Replace a product's policy")
    async def set_policy(
        product_id: str,
        policy: PolicyDraft,
        who: Operator,
        response: Response,
        if_match: IfMatch = None,
    ) -> ManagedProduct:
        with as_problems():
            stored = await products.set_policy(
                catalog, product_id, policy, who.subject, expected_version(if_match)
            )
        _etag(response, stored)
        return ManagedProduct.of(stored)

    @router.post(
        "/products/{product_id}/price-versions",
        status_code=status.HTTP_201_CREATED,
        summary="Add the next price version, in effect from a future day",
        description="Versions are never edited: a change of price is a new version starting "
        "after today and after the last version.",
    )
    async def add_price_version(
        product_id: str,
        new: NewPriceVersion,
        who: Operator,
        response: Response,
        if_match: IfMatch = None,
    ) -> ManagedProduct:
        with as_problems():
            stored = await products.add_price_version(
                catalog, product_id, new, who.subject, expected_version(if_match)
            )
        number = stored.value.snapshot.price_versions[-1].version
        response.headers["Location"] = f"/v1/products/{product_id}/price-versions/{number}"
        _etag(response, stored)
        return ManagedProduct.of(stored)


def _code_routes(
    router: APIRouter, catalog: Catalog, listing: Listing[ConventionCodeSnapshot], auth: Auth
) -> None:
    Operator = Annotated[Principal, Depends(auth.admin)]

    @router.get("/convention-codes", summary="Every convention code, revoked or not")
    async def list_codes(_: Operator) -> list[ManagedCode]:
        return [ManagedCode.of(c) for c in await listing.all()]

    @router.get("/convention-codes/{code}", summary="One code with its change history")
    async def get_code(code: str, _: Operator, response: Response) -> ManagedCode:
        stored = await catalog.codes.changes.get(code.upper())
        if stored is None:
            raise Problem(404, "Not found", f"no convention code {code}")
        _etag(response, stored)
        return ManagedCode.of(stored)

    @router.post(
        "/convention-codes",
        status_code=status.HTTP_201_CREATED,
        summary="Create a convention code",
    )
    async def create_code(draft: CodeDraft, who: Operator, response: Response) -> ManagedCode:
        with as_problems():
            stored = await codes.create_code(catalog, draft, who.subject)
        response.headers["Location"] = f"/v1/admin/convention-codes/{draft.code}"
        _etag(response, stored)
        return ManagedCode.of(stored)

    @router.put("/convention-codes/{code}", summary="Replace a code's discount, dates and scope")
    async def revise_code(
        code: str,
        changes: CodeChanges,
        who: Operator,
        response: Response,
        if_match: IfMatch = None,
    ) -> ManagedCode:
        with as_problems():
            stored = await codes.revise_code(
                catalog, code.upper(), changes, who.subject, expected_version(if_match)
            )
        _etag(response, stored)
        return ManagedCode.of(stored)

    @router.post(
        "/convention-codes/{code}/revoke",
        summary="Revoke a code for good",
        description="Idempotent. A revoked code is refused in every cart and never returns.",
    )
    async def revoke_code(
        code: str, who: Operator, response: Response, if_match: IfMatch = None
    ) -> ManagedCode:
        with as_problems():
            stored = await codes.revoke_code(
                catalog, code.upper(), who.subject, expected_version(if_match)
            )
        _etag(response, stored)
        return ManagedCode.of(stored)
