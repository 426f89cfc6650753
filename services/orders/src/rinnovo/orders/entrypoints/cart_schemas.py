"""Request and response bodies of carts, and the terms their checkout asks to accept."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rinnovo.orders.domain.carts import CHANGEABLE
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.entrypoints.schemas import Body, ComponentsOut, QuoteOut, Username
from rinnovo.orders.service_layer.carts import CartView
from rinnovo.orders.service_layer.ports import Policies
from rinnovo.runtime.bounds import MAX_STORAGE_GB, TermYears, Units


class DocumentOut(BaseModel):
    document: str = Field(description="`general_conditions`, `unfair_terms` or `privacy`.")
    version: str = Field(description="Send it back in the checkout's `acceptances`.")
    url: str = Field(description="Where the customer reads it.")


class TermsOut(BaseModel):
    """What checkout asks the customer to accept, and how an order can be paid."""

    acceptances: list[DocumentOut] = Field(
        description="Each document to accept at checkout, in its current version."
    )
    payment_methods: list[str] = Field(description="The methods a cart accepts.")
    automatic_renewal_methods: list[str] = Field(
        description="The stored methods automatic renewal may charge (a subset)."
    )

    @classmethod
    def of(cls, policies: Policies) -> "TermsOut":
        return cls(
            acceptances=[
                DocumentOut(document=doc, version=version, url=policies.document_urls.get(doc, ""))
                for doc, version in policies.acceptance_versions.items()
            ],
            payment_methods=sorted(policies.payment_methods),
            automatic_renewal_methods=sorted(policies.stored_payment_methods),
        )


class CartIn(Body):
    kind: Literal["first_purchase", "renewal", "reactivation", "upgrade"]
    service_id: str | None = Field(
        default=None, max_length=200, description="For renewal/reactivation/upgrade."
    )
    product_id: str | None = Field(
        default=None, max_length=200, description="For a first purchase."
    )
    username: Username | None = Field(default=None, description="Panel login (first purchase).")


KEPT_IF_ABSENT = ("storage_gb", "extra_users", "nso", "term_years", "automatic_renewal")
"""Fields of a cart change that cannot be emptied: leave them out to keep them."""


def _not_nullable(schema: dict[str, Any]) -> None:
    for name in KEPT_IF_ABSENT:
        field = schema["properties"][name]
        field.pop("default", None)
        (value,) = [b for b in field.pop("anyOf") if b != {"type": "null"}]
        field.update(value)


NOT_FOR_UPGRADES = "First purchases, renewals and reactivations only: an upgrade refuses it (422)."


class CartChange(Body):
    """Only the fields sent change.

    Which fields apply depends on the cart's kind (`changeable` in the cart lists them):
    every kind takes `storage_gb`, `extra_users`, `nso` and `payment_method`; first
    purchases, renewals and reactivations also take `term_years`, `automatic_renewal` and
    `convention_code`. An upgrade buys no term: a field that does not apply to the cart's
    kind is refused with 422 naming it, never ignored.
    """

    model_config = ConfigDict(json_schema_extra=_not_nullable)

    storage_gb: int | None = Field(default=None, ge=0, le=MAX_STORAGE_GB, strict=True)
    extra_users: Units | None = None
    nso: bool | None = None
    term_years: TermYears | None = Field(default=None, description=NOT_FOR_UPGRADES)
    payment_method: str | None = Field(default=None, max_length=50)
    automatic_renewal: bool | None = Field(default=None, description=NOT_FOR_UPGRADES)
    convention_code: str | None = Field(
        default=None,
        max_length=100,
        description="Apply a code; an empty string removes it. " + NOT_FOR_UPGRADES,
    )

    @field_validator(*KEPT_IF_ABSENT)
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null: leave it out to keep it")
        return value


class CartOut(BaseModel):
    cart_id: str
    kind: OrderKind
    service_id: str | None
    product_id: str
    active_components: ComponentsOut | None = Field(
        description="What the service holds now (listed when the cart opens)."
    )
    components: ComponentsOut
    term_years: int
    payment_method: str | None
    automatic_renewal: bool
    convention_code: str | None
    changeable: list[str] = Field(description="The fields a change of this cart may send.")
    quote: QuoteOut
    terms: TermsOut = Field(description="What its checkout asks to accept; how it can be paid.")

    @classmethod
    def of(cls, view: CartView, policies: Policies) -> "CartOut":
        c = view.cart
        return cls(
            cart_id=c.cart_id,
            kind=c.kind,
            service_id=c.subscription_id,
            product_id=c.product_id,
            active_components=ComponentsOut(**vars(c.current)) if c.current else None,
            components=ComponentsOut(**vars(c.wanted)),
            term_years=c.term_years,
            payment_method=c.payment_method,
            automatic_renewal=c.automatic_renewal,
            convention_code=c.convention_code,
            changeable=list(CHANGEABLE[c.kind]),
            quote=QuoteOut.of(view.quote),
            terms=TermsOut.of(policies),
        )
