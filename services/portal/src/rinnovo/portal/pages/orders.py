"""My orders, an order just placed, how to pay one, and cancelling one after confirmation.

The payment instructions come from payments, which prepares them once it has read the order
placed: until then the page says they are being prepared and (with JavaScript) looks again.
"""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from rinnovo.portal.apis import CustomerApis
from rinnovo.portal.errors import PARTIAL
from rinnovo.portal.upstream import ApiError
from rinnovo.portal.web import ID_PATTERN, Portal, field

OrderId = Annotated[str, Path(pattern=ID_PATTERN)]


async def my_orders(
    portal: Portal,
    request: Request,
    apis: CustomerApis,
    cancelled: str = "",
    error: ApiError | None = None,
) -> Response:
    orders, cards, products = await asyncio.gather(apis.orders(), apis.cards(), apis.products())
    known = [c for c in cards if c.product_id in products]
    names = {c.service_id: products[c.product_id].name for c in known}
    return portal.pages.render(
        request,
        "orders.html",
        status=error.status if error else 200,
        orders=orders,
        usernames={c.service_id: c.username for c in cards},
        product_names=names,
        cancelled=next((o for o in orders if o.order_id == cancelled), None),
        error=error,
    )


async def payment_page(
    portal: Portal, request: Request, apis: CustomerApis, order_id: str, template: str
) -> Response:
    order, payments, methods = await asyncio.gather(
        apis.order(order_id), apis.payments_of(order_id), apis.methods()
    )
    if request.headers.get(PARTIAL):
        template = "_instructions.html"
    return portal.pages.render(
        request,
        template,
        order=order,
        payment=payments[-1] if payments else None,
        registration_days={m.name: m.usual_registration_days for m in methods},
    )


def router(portal: Portal) -> APIRouter:
    routes = APIRouter()
    Apis = Annotated[CustomerApis, Depends(portal.apis)]
    Form = Annotated[FormData, Depends(portal.form)]

    @routes.get("/orders")
    async def orders(
        request: Request,
        apis: Apis,
        cancelled: Annotated[str, Query(max_length=200)] = "",
    ) -> Response:
        return await my_orders(portal, request, apis, cancelled)

    @routes.get("/orders/{order_id}/placed")
    async def placed(request: Request, order_id: OrderId, apis: Apis) -> Response:
        return await payment_page(portal, request, apis, order_id, "order_placed.html")

    @routes.get("/orders/{order_id}/payment")
    async def pay(request: Request, order_id: OrderId, apis: Apis) -> Response:
        return await payment_page(portal, request, apis, order_id, "order_payment.html")

    @routes.get("/orders/{order_id}/cancel")
    async def confirm_cancel(request: Request, order_id: OrderId, apis: Apis) -> Response:
        return portal.pages.render(request, "order_cancel.html", order=await apis.order(order_id))

    @routes.post("/orders/{order_id}/cancel")
    async def cancel(request: Request, order_id: OrderId, apis: Apis, form: Form) -> Response:
        if field(form, "confirm") != "yes":
            return RedirectResponse(f"/orders/{order_id}/cancel", status_code=303)
        try:
            await apis.cancel(order_id)
        except ApiError as error:
            if error.status == 404:
                raise
            return await my_orders(portal, request, apis, error=error)
        return RedirectResponse(f"/orders?cancelled={order_id}", status_code=303)

    return routes
