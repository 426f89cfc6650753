"""The cart of a renewal, reactivation or upgrade, in the two steps of the seed's procedure.

1. ``/carts/{id}``: what the service holds, more space, users, the NSO module, a convention
   code (applied with OK, its refusal shown), and the quote;
2. ``/carts/{id}/order``: payment method, automatic renewal, term, the quote, the three
   acceptances and Confirm; "Modify your order" goes back to step 1.

The cart lives in orders, so going back and forth keeps everything. Each change is sent to
orders, which answers with the new quote or says why it refuses; the page shows either. With
JavaScript the step is sent when a field changes and redrawn in place (``X-Portal-Partial``).
"""

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from rinnovo.portal.apis import CustomerApis
from rinnovo.portal.errors import PARTIAL
from rinnovo.portal.pages.services import my_services
from rinnovo.portal.upstream import ApiError
from rinnovo.portal.web import ID_PATTERN, Portal, field

CartId = Annotated[str, Path(pattern=ID_PATTERN)]
STEPS = {"cart": "cart.html", "order": "cart_order.html"}
CART_KINDS = ("renewal", "reactivation", "upgrade")
DOCUMENTS = ("general_conditions", "unfair_terms", "privacy")
NUMBERS = ("storage_gb", "extra_users", "term_years")
CHECKBOXES = ("nso", "automatic_renewal")


def changes_from(form: FormData) -> dict[str, Any]:
    """The cart fields this form shows, as orders takes them; anything else is left alone.

    A number that is not one is sent as typed, so orders names the field it refuses. An
    unticked checkbox is not sent by the browser: its ``<name>_shown`` marker says it was on
    the form.
    """
    changes: dict[str, Any] = {}
    for name in NUMBERS:
        if name in form:
            text = field(form, name, 12)
            changes[name] = int(text) if text.isdigit() else text
    for name in CHECKBOXES:
        if f"{name}_shown" in form:
            changes[name] = field(form, name) == "on"
    if field(form, "payment_method"):
        changes["payment_method"] = field(form, "payment_method", 50)
    if "convention_code" in form:
        remove = field(form, "code_action") == "remove"
        changes["convention_code"] = "" if remove else field(form, "convention_code", 50)
    return changes


async def step(
    portal: Portal,
    request: Request,
    apis: CustomerApis,
    cart_id: str,
    name: str,
    *,
    error: ApiError | None = None,
    rejected: dict[str, Any] | None = None,
) -> Response:
    """A step of the cart as orders has it now, or only its live part for the script."""
    cart, products, methods = await asyncio.gather(
        apis.cart(cart_id), apis.products(), apis.methods()
    )
    # The methods this cart accepts (orders says), as payments describes them.
    methods = [m for m in methods if m.name in cart.terms.payment_methods]
    template = STEPS[name]
    if request.headers.get(PARTIAL):
        template = f"_{template}"
    return portal.pages.render(
        request,
        template,
        status=error.status if error else 200,
        cart=cart,
        product=products.get(cart.product_id),
        methods=methods,
        error=error,
        rejected=rejected or {},
        idempotency_key=uuid.uuid4().hex,
    )


def router(portal: Portal) -> APIRouter:
    routes = APIRouter()
    Apis = Annotated[CustomerApis, Depends(portal.apis)]
    Form = Annotated[FormData, Depends(portal.form)]

    @routes.post("/carts")
    async def start_cart(request: Request, apis: Apis, form: Form) -> Response:
        kind, service_id = field(form, "kind"), field(form, "service_id")
        if kind not in CART_KINDS or not service_id:
            return await my_services(portal, request, apis)
        try:
            cart = await apis.start_cart(kind, service_id)
        except ApiError as error:
            if error.status == 404:
                raise
            return await my_services(portal, request, apis, error)
        anchor = "#storage" if field(form, "focus") == "storage" else ""
        return RedirectResponse(f"/carts/{cart.cart_id}{anchor}", status_code=303)

    @routes.get("/carts/{cart_id}")
    async def cart(request: Request, cart_id: CartId, apis: Apis) -> Response:
        return await step(portal, request, apis, cart_id, "cart")

    @routes.get("/carts/{cart_id}/order")
    async def order_form(request: Request, cart_id: CartId, apis: Apis) -> Response:
        return await step(portal, request, apis, cart_id, "order")

    @routes.post("/carts/{cart_id}")
    async def change(request: Request, cart_id: CartId, apis: Apis, form: Form) -> Response:
        name = field(form, "step") if field(form, "step") in STEPS else "cart"
        changes = changes_from(form)
        try:
            if changes:
                await apis.change_cart(cart_id, changes)
        except ApiError as error:
            if error.status == 404:
                raise
            return await step(portal, request, apis, cart_id, name, error=error, rejected=changes)
        if request.headers.get(PARTIAL):
            return await step(portal, request, apis, cart_id, name)
        target = f"/carts/{cart_id}" + ("/order" if name == "order" else "")
        return RedirectResponse(target, status_code=303)

    routes.include_router(checkout_router(portal))
    return routes


def checkout_router(portal: Portal) -> APIRouter:
    """Confirm: the three acceptances, in the versions the form showed (orders refuses a
    version no longer current), once (``Idempotency-Key``)."""
    routes = APIRouter()
    Apis = Annotated[CustomerApis, Depends(portal.apis)]
    Form = Annotated[FormData, Depends(portal.form)]

    @routes.post("/carts/{cart_id}/checkout")
    async def checkout(request: Request, cart_id: CartId, apis: Apis, form: Form) -> Response:
        acceptances = {
            doc: {
                "accepted": field(form, doc) == "on",
                "version": field(form, f"{doc}_version", 50),
            }
            for doc in DOCUMENTS
        }
        key = field(form, "idempotency_key", 100) or uuid.uuid4().hex
        try:
            order = await apis.checkout(cart_id, acceptances, key)
        except ApiError as error:
            if error.status == 404:
                raise
            accepted = {doc: field(form, doc) == "on" for doc in DOCUMENTS}
            return await step(
                portal, request, apis, cart_id, "order", error=error, rejected=accepted
            )
        return RedirectResponse(f"/orders/{order.order_id}/placed", status_code=303)

    return routes
