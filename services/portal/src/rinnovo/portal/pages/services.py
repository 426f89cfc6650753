"""My services (one card each, as orders computes it), a service's own page with its
timeline and orders, and the automatic-renewal switch."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from rinnovo.portal.apis import CustomerApis
from rinnovo.portal.upstream import ApiError
from rinnovo.portal.web import ID_PATTERN, Portal, field, number

ServiceId = Annotated[str, Path(pattern=ID_PATTERN)]


async def my_services(
    portal: Portal, request: Request, apis: CustomerApis, error: ApiError | None = None
) -> Response:
    """The cards, with the refusal of what the customer just asked, if any."""
    cards, products, terms = await asyncio.gather(apis.cards(), apis.products(), apis.terms())
    return portal.pages.render(
        request,
        "services.html",
        status=error.status if error else 200,
        cards=cards,
        products=products,
        methods=terms.automatic_renewal_methods,
        error=error,
    )


def router(portal: Portal) -> APIRouter:
    routes = APIRouter()
    Apis = Annotated[CustomerApis, Depends(portal.apis)]
    Form = Annotated[FormData, Depends(portal.form)]

    @routes.get("/")
    async def home() -> RedirectResponse:
        return RedirectResponse("/services", status_code=303)

    @routes.get("/services")
    async def services(request: Request, apis: Apis) -> Response:
        return await my_services(portal, request, apis)

    @routes.get("/services/{service_id}")
    async def service(request: Request, service_id: ServiceId, apis: Apis) -> Response:
        card, timeline, orders, products, terms = await asyncio.gather(
            apis.card(service_id),
            apis.timeline(service_id),
            apis.service_orders(service_id),
            apis.products(),
            apis.terms(),
        )
        return portal.pages.render(
            request,
            "service.html",
            card=card,
            product=products.get(card.product_id),
            timeline=timeline,
            orders=orders,
            methods=terms.automatic_renewal_methods,
        )

    @routes.post("/services/{service_id}/automatic-renewal")
    async def automatic_renewal(
        request: Request, service_id: ServiceId, apis: Apis, form: Form
    ) -> Response:
        enabled = field(form, "enabled") == "true"
        try:
            await apis.switch_automatic_renewal(
                service_id, enabled, number(form, "term_years"), field(form, "payment_method")
            )
        except ApiError as error:
            if error.status == 404:
                raise
            return await my_services(portal, request, apis, error)
        return RedirectResponse(f"/services#service-{service_id}", status_code=303)

    return routes
