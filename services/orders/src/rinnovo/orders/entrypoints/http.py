"""The customer-area API: cards, carts, checkout, orders; and the operators' import.

Thin: parse, call the use case, shape the answer. Every route needs a bearer token and acts
on the caller's own things only; anything else answers 404, as if it did not exist.
"""

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Header, Response

from rinnovo.contracts.catalog import ProductSnapshot
from rinnovo.orders.domain.pricing import OrderKind
from rinnovo.orders.domain.subscription import (
    AutoRenewal,
    Components,
    Holder,
    Status,
    Subscription,
)
from rinnovo.orders.entrypoints.cart_schemas import CartChange, CartIn, CartOut, TermsOut
from rinnovo.orders.entrypoints.schemas import CancelIn, CardOut, CheckoutIn, OrderOut
from rinnovo.orders.entrypoints.service_schemas import (
    AutomaticRenewalIn,
    ServiceImport,
    TimelineOut,
)
from rinnovo.orders.service_layer import admin, cancellation, carts, views
from rinnovo.orders.service_layer import automatic_renewal as auto_renewal
from rinnovo.orders.service_layer import checkout as checkouts
from rinnovo.orders.service_layer.context import Context
from rinnovo.runtime.auth import Auth, Principal
from rinnovo.runtime.problems import COMMON_RESPONSES

T = TypeVar("T")

ERRORS = COMMON_RESPONSES


def public_router(ctx: Context) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["terms"])

    @router.get(
        "/terms",
        summary="The documents checkout asks to accept, their versions, and the payment methods",
        description="Public: the same for every customer. A checkout accepts each document in "
        "the version given here; a cart also carries it (`terms`).",
    )
    async def terms() -> TermsOut:
        return TermsOut.of(ctx.policies)

    return router


def customer_router(ctx: Context, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["customer area"], responses=ERRORS)
    _service_routes(router, ctx, auth)
    _cart_routes(router, ctx, auth)
    _order_routes(router, ctx, auth)
    return router


def _service_routes(router: APIRouter, ctx: Context, auth: Auth) -> None:
    Customer = Annotated[Principal, Depends(auth.customer)]

    @router.get("/services", summary="My services, as cards")
    async def list_cards(me: Customer) -> list[CardOut]:
        return [CardOut.of(c) for c in await views.cards(ctx, me.subject)]

    @router.get("/services/{service_id}", summary="One of my services, as its card")
    async def get_card(service_id: str, me: Customer) -> CardOut:
        return CardOut.of(await views.service_card(ctx, me.subject, service_id))

    @router.get(
        "/services/{service_id}/timeline",
        summary="What happened to one of my services, and what comes next, with dates",
    )
    async def timeline(service_id: str, me: Customer) -> TimelineOut:
        service, upcoming = await views.timeline(ctx, me.subject, service_id)
        return TimelineOut.of(service, upcoming)

    @router.get("/services/{service_id}/orders", summary="The orders of one of my services")
    async def service_orders(service_id: str, me: Customer) -> list[OrderOut]:
        return [OrderOut.of(o) for o in await views.orders_of(ctx, me.subject, service_id)]

    @router.put(
        "/services/{service_id}/automatic-renewal", summary="Switch automatic renewal on or off"
    )
    async def automatic_renewal(service_id: str, body: AutomaticRenewalIn, me: Customer) -> CardOut:
        await auto_renewal.switch_automatic_renewal(
            ctx, me.subject, service_id, body.enabled, body.term_years, body.payment_method
        )
        return CardOut.of(await views.service_card(ctx, me.subject, service_id))


def _cart_routes(router: APIRouter, ctx: Context, auth: Auth) -> None:
    Customer = Annotated[Principal, Depends(auth.customer)]

    @router.post("/carts", status_code=201, summary="Open a cart from a service or a product")
    async def start_cart(body: CartIn, me: Customer) -> CartOut:
        view = await carts.start_cart(
            ctx, me.subject, OrderKind(body.kind), body.service_id, body.product_id, body.username
        )
        return CartOut.of(view, ctx.policies)

    @router.get("/carts/{cart_id}", summary="A cart with a fresh quote")
    async def get_cart(cart_id: str, me: Customer) -> CartOut:
        return CartOut.of(await carts.cart(ctx, me.subject, cart_id), ctx.policies)

    @router.patch("/carts/{cart_id}", summary="Change space, users, NSO, term, payment or code")
    async def change_cart(cart_id: str, body: CartChange, me: Customer) -> CartOut:
        changes: dict[str, object] = body.model_dump(exclude_unset=True)
        code = changes.get("convention_code")
        if isinstance(code, str):  # codes are kept in capitals; "" removes the code
            changes["convention_code"] = code.strip().upper() or None
        view = await carts.change_cart(ctx, me.subject, cart_id, changes)
        return CartOut.of(view, ctx.policies)

    @router.post(
        "/carts/{cart_id}/checkout",
        status_code=201,
        summary="Confirm: place the order, awaiting payment",
        description="Send an `Idempotency-Key` to retry safely: the same key and body give the "
        "same order; the same key with another body is refused (422). Keys are each "
        "customer's own: another customer's same key names nothing of theirs.",
    )
    async def checkout(
        cart_id: str,
        body: CheckoutIn,
        me: Customer,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> OrderOut:
        a = body.acceptances
        acceptances = {
            "general_conditions": a.general_conditions.version,
            "unfair_terms": a.unfair_terms.version,
            "privacy": a.privacy.version,
        }
        holder = Holder(**body.holder.model_dump()) if body.holder else None
        order = await checkouts.checkout(
            ctx, me.subject, cart_id, acceptances, holder, idempotency_key
        )
        return OrderOut.of(order)


def _order_routes(router: APIRouter, ctx: Context, auth: Auth) -> None:
    Customer = Annotated[Principal, Depends(auth.customer)]

    @router.get("/orders", summary="All my orders, newest first")
    async def list_orders(me: Customer) -> list[OrderOut]:
        return [OrderOut.of(o) for o in await views.orders_of(ctx, me.subject)]

    @router.get("/orders/{order_id}", summary="One of my orders")
    async def get_order(order_id: str, me: Customer) -> OrderOut:
        return OrderOut.of(await views.own_order(ctx, me.subject, order_id))

    @router.post("/orders/{order_id}/cancel", summary="Cancel an order awaiting payment")
    async def cancel(order_id: str, body: CancelIn, me: Customer) -> OrderOut:
        return OrderOut.of(await cancellation.cancel_order(ctx, me.subject, order_id, body.confirm))

    @router.get("/catalog/products", summary="What can be bought, as this service knows it")
    async def products(me: Customer) -> list[ProductSnapshot]:
        return await views.products_on_sale(ctx)


def admin_router(ctx: Context, auth: Auth) -> APIRouter:
    router = APIRouter(prefix="/v1/admin", tags=["operators"], responses=ERRORS)
    Admin = Annotated[Principal, Depends(auth.admin)]

    @router.post("/services", status_code=201, summary="Import an existing service")
    async def import_service(body: ServiceImport, _: Admin, response: Response) -> CardOut:
        auto = body.automatic_renewal
        service = Subscription(
            subscription_id=body.service_id,
            customer_id=body.customer_id,
            holder=Holder(**body.holder.model_dump()),
            username=body.username,
            product_id=body.product_id,
            status=Status(body.status),
            expiry_date=body.expiry_date,
            components=Components(body.storage_gb, body.extra_users, body.nso),
            used_bytes=body.used_bytes,
            auto_renewal=AutoRenewal(
                enabled=bool(auto and auto.enabled),
                term_years=(auto.term_years if auto and auto.term_years else 1),
                payment_method=auto.payment_method if auto else None,
            ),
        )
        await admin.import_service(ctx, service)
        response.headers["Location"] = f"/v1/services/{service.subscription_id}"
        return CardOut.of(await views.service_card(ctx, body.customer_id, body.service_id))

    return router
